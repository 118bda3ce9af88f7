# Runtime shared by every project: hooks, logging, visualisation backends
# and environment.  Project configs inherit this file and set their own
# ``default_scope`` (``mmdet`` for FRED, ``mmdet3d`` for odometry).
# ``mmfusion.engine`` registers the shared hooks and optimizer wrappers.
custom_imports = dict(imports=['mmfusion.engine'], allow_failed_imports=False)
# A NaN / inf loss stops training, naming the iteration and the loss term:
# the schedules use ``optim_wrapper = dict(type='FiniteOptimWrapper', ...)``
# (``optim_wrapper.action='skip'`` skips such iterations instead).

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Atomic writes: a killed run resumes from its last complete checkpoint;
    # inside long epochs one every 1000 iterations (only the newest kept).
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        interval_iters=1000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Random generators in checkpoints: resumed runs repeat uninterrupted
    # ones exactly under ``randomness=dict(seed=..., deterministic=True)``.
    rng_state=dict(type='RNGStateHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

# Scalars and images go to the work dir (LocalVisBackend) and to
# TensorBoard: ``tensorboard --logdir work_dirs``.
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
# No fixed ``name``: the Runner names the visualizer after the experiment, so
# several runs in one process (tests, sweeps) keep their own work dirs.
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
