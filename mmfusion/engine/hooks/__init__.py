from .csv_logger_hook import EpochCSVLoggerHook
from .epoch_record_hook import EpochRecordHook
from .freeze_schedule_hook import FreezeScheduleHook
from .loss_plot_hook import LossPlotHook
from .param_sync_check_hook import ParamSyncCheckHook
from .train_speed_monitor_hook import TrainSpeedMonitorHook

__all__ = [
    'EpochRecordHook', 'EpochCSVLoggerHook', 'FreezeScheduleHook',
    'LossPlotHook', 'ParamSyncCheckHook', 'TrainSpeedMonitorHook'
]
