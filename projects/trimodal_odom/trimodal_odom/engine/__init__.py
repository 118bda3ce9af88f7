from .hooks import (CheckpointLoadReportHook, ExportCheckpointHook,
                    compare_state_dicts)

__all__ = [
    'CheckpointLoadReportHook', 'ExportCheckpointHook', 'compare_state_dicts'
]
