from .checkpoint_load_report_hook import (CheckpointLoadReportHook,
                                          compare_state_dicts)
from .export_checkpoint_hook import ExportCheckpointHook

__all__ = [
    'CheckpointLoadReportHook', 'ExportCheckpointHook', 'compare_state_dicts'
]
