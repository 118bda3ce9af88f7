from mmfusion.datasets.samplers import ResumableBatchSampler
from .checkpoint_loader import load_from_local
from .compile_log import CompileEvent, CompileLog, get_compile_log
from .cpu_distributed import (init_process_group_without_cuda,
                              setup_cpu_distributed)
from .hooks import (AtomicCheckpointHook, DeferredRuntimeInfoHook,
                    EpochCSVLoggerHook, EpochRecordHook, FreezeScheduleHook,
                    HostSyncAuditHook, LossPlotHook, ParamSyncCheckHook,
                    RNGStateHook, TrainSpeedMonitorHook,
                    find_resumable_checkpoint)
from .host_sync import AsyncHostCopy, HostSyncCounter
from .model_utils import named_submodules, unwrap_model
from .multi_scale import (count_input_sizes, multi_scale_resizers,
                          multi_scale_sizes)
from .optim_wrappers import (FiniteAmpOptimWrapper, FiniteOptimWrapper,
                             GroupedParamsOptimWrapperConstructor,
                             amp_optim_wrapper)
from .resumable_epoch_based_train_loop import ResumableEpochBasedTrainLoop
from .training_compiler import TrainingCompiler, dynamic_shape_workarounds

__all__ = [
    'load_from_local', 'AtomicCheckpointHook', 'find_resumable_checkpoint',
    'FiniteOptimWrapper', 'FiniteAmpOptimWrapper', 'amp_optim_wrapper',
    'GroupedParamsOptimWrapperConstructor', 'RNGStateHook', 'EpochRecordHook',
    'EpochCSVLoggerHook', 'FreezeScheduleHook', 'LossPlotHook',
    'ParamSyncCheckHook', 'TrainSpeedMonitorHook', 'setup_cpu_distributed',
    'init_process_group_without_cuda', 'unwrap_model', 'named_submodules',
    'CompileEvent', 'CompileLog', 'get_compile_log', 'TrainingCompiler',
    'count_input_sizes', 'multi_scale_resizers', 'multi_scale_sizes',
    'dynamic_shape_workarounds', 'ResumableEpochBasedTrainLoop',
    'ResumableBatchSampler', 'HostSyncCounter', 'HostSyncAuditHook',
    'AsyncHostCopy', 'DeferredRuntimeInfoHook'
]
