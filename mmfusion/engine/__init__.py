from mmfusion.datasets.samplers import ResumableBatchSampler
from .checkpoint_loader import load_from_local
from .cpu_distributed import (init_process_group_without_cuda,
                              setup_cpu_distributed)
from .finite_loss_hook import FiniteLossHook
from .hooks import (AtomicCheckpointHook, EpochCSVLoggerHook, EpochRecordHook,
                    FreezeScheduleHook, LossPlotHook, ParamSyncCheckHook,
                    RNGStateHook, find_resumable_checkpoint)
from .model_utils import named_submodules, unwrap_model
from .resumable_epoch_based_train_loop import ResumableEpochBasedTrainLoop

__all__ = [
    'load_from_local', 'AtomicCheckpointHook', 'find_resumable_checkpoint',
    'FiniteLossHook', 'RNGStateHook', 'EpochRecordHook', 'EpochCSVLoggerHook',
    'FreezeScheduleHook', 'LossPlotHook', 'ParamSyncCheckHook',
    'setup_cpu_distributed', 'init_process_group_without_cuda', 'unwrap_model',
    'named_submodules', 'ResumableEpochBasedTrainLoop', 'ResumableBatchSampler'
]
