# Runtime of the odometry configs: the shared runtime plus the project's
# modules, scope, evaluator and checkpoint options of the training seed.
_base_ = ['../../_base_/default_runtime.py']

default_scope = 'mmdet3d'
# The runtime subpackages of the project (its RUNTIME_PACKAGES; the metric
# registers in evaluation.metrics); the converters and the sample
# generator stay out of training.
custom_imports = dict(
    imports=[
        'mmfusion.engine', 'projects.trimodal_odom.trimodal_odom.datasets',
        'projects.trimodal_odom.trimodal_odom.engine',
        'projects.trimodal_odom.trimodal_odom.evaluation.metrics',
        'projects.trimodal_odom.trimodal_odom.models'
    ],
    allow_failed_imports=False)

# ``--save_every_epoch N``: ``default_hooks.checkpoint.interval=N``.
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_last=True))

custom_hooks = [
    # Logs which weights ``load_from`` / ``--resume`` loaded, missing and
    # unexpected, and writes work_dir/load_report.json.
    dict(type='CheckpointLoadReportHook'),
    # ``--output_checkpoint PATH``:
    # ``--cfg-options custom_hooks.ExportCheckpointHook.out_file=PATH``.
    dict(type='ExportCheckpointHook', out_file=None),
    # ``--log_csv``: one row per epoch (epoch, loss, lr, the loss terms and
    # the validation metrics) in work_dir/metrics.csv;
    # ``custom_hooks.EpochCSVLoggerHook.filename=NAME`` renames it.
    dict(type='EpochCSVLoggerHook'),
]

# Two references beside the model: 'constant_velocity' repeats the previous
# ground-truth motion at every step (an oracle of the evaluated sequence);
# 'mean_motion' drives KITTI's mean motion between two frames at every step
# (sensor-free; the same values as ``model.pose_head.pose_mean``).
val_evaluator = dict(
    type='KittiOdomMetric',
    baselines=('constant_velocity', 'mean_motion'),
    mean_motion=[0.0, -0.015, 0.87, 0.0, 0.0, 0.0])
test_evaluator = val_evaluator
