from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     find_resumable_checkpoint)
from .checkpoint_loader import load_from_local
from .compile_log import CompileEvent, CompileLog, get_compile_log
from .cpu_distributed import (init_process_group_without_cuda,
                              setup_cpu_distributed)
from .finite_loss_hook import FiniteLossHook
from .hooks import (EpochCSVLoggerHook, EpochRecordHook, FreezeScheduleHook,
                    LossPlotHook, ParamSyncCheckHook, TrainSpeedMonitorHook)
from .multi_scale import (count_input_sizes, multi_scale_resizers,
                          multi_scale_sizes)
from .rng_state_hook import RNGStateHook
from .training_compiler import TrainingCompiler, dynamic_shape_workarounds

__all__ = [
    'load_from_local', 'AtomicCheckpointHook', 'find_resumable_checkpoint',
    'FiniteLossHook', 'RNGStateHook', 'EpochRecordHook', 'EpochCSVLoggerHook',
    'FreezeScheduleHook', 'LossPlotHook', 'ParamSyncCheckHook',
    'TrainSpeedMonitorHook', 'setup_cpu_distributed',
    'init_process_group_without_cuda', 'CompileEvent', 'CompileLog',
    'get_compile_log', 'TrainingCompiler', 'count_input_sizes',
    'multi_scale_resizers', 'multi_scale_sizes', 'dynamic_shape_workarounds'
]
