from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     find_resumable_checkpoint)
from .checkpoint_loader import load_from_local
from .finite_loss_hook import FiniteLossHook
from .hooks import (EpochCSVLoggerHook, EpochRecordHook, FreezeScheduleHook,
                    LossPlotHook, ParamSyncCheckHook)
from .rng_state_hook import RNGStateHook

__all__ = [
    'load_from_local', 'AtomicCheckpointHook', 'find_resumable_checkpoint',
    'FiniteLossHook', 'RNGStateHook', 'EpochRecordHook', 'EpochCSVLoggerHook',
    'FreezeScheduleHook', 'LossPlotHook', 'ParamSyncCheckHook'
]
