from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     find_resumable_checkpoint)
from .csv_logger_hook import EpochCSVLoggerHook
from .deferred_runtime_info_hook import DeferredRuntimeInfoHook
from .epoch_record_hook import EpochRecordHook
from .freeze_schedule_hook import FreezeScheduleHook
from .host_sync_audit_hook import HostSyncAuditHook
from .loss_plot_hook import LossPlotHook
from .param_sync_check_hook import ParamSyncCheckHook
from .rng_state_hook import RNGStateHook
from .train_speed_monitor_hook import TrainSpeedMonitorHook

__all__ = [
    'AtomicCheckpointHook', 'find_resumable_checkpoint', 'EpochRecordHook',
    'EpochCSVLoggerHook', 'FreezeScheduleHook', 'LossPlotHook',
    'ParamSyncCheckHook', 'RNGStateHook', 'TrainSpeedMonitorHook',
    'HostSyncAuditHook', 'DeferredRuntimeInfoHook'
]
