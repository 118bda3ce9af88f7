# The toy classifier with a two-stage schedule: the first layer frozen for
# two epochs at batch 4 (6 iterations an epoch), then everything at batch 6
# (4 iterations), under an iteration-based warm-up converted from epochs
# and an epoch-based step.
_base_ = ['./toy_classifier_config.py']

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', milestones=[4], gamma=0.1, by_epoch=True)
]
custom_hooks = [
    dict(
        type='FreezeScheduleHook',
        modules=['net.0'],
        freeze_epochs=2,
        freeze_batch_size=4,
        unfreeze_batch_size=6)
]
