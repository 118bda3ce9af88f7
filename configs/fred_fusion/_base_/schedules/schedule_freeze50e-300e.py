# Two-stage schedule of the FRED fusion seed: 300 epochs; for the first 50
# both backbones are frozen (batch 8), then everything trains (batch 4).
# YOLOX recipe otherwise: SGD with Nesterov, quadratic warm-up, cosine decay,
# no augmentation mix and L1 loss for the last 15 epochs, EMA weights.
max_epochs = 300
freeze_epochs = 50
freeze_batch_size = 8
unfreeze_batch_size = 4
num_last_epochs = 15
# YOLOX's lr 0.01 is for a batch of 64; scaled linearly to each stage.
base_lr = 0.01 * freeze_batch_size / 64

# ``--resume`` continues an interrupted epoch with its remaining batches.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# FiniteOptimWrapper: a NaN / inf loss stops the run (action='skip': skips
# the iteration); tools/train.py --amp makes it FiniteAmpOptimWrapper.
# GroupedParamsOptimWrapperConstructor: the paramwise_cfg gives two
# parameter groups (with and without weight decay) instead of one per
# parameter, so that SGD's step is a few foreach launches on a GPU.
optim_wrapper = dict(
    type='FiniteOptimWrapper',
    constructor='GroupedParamsOptimWrapperConstructor',
    action='raise',
    optimizer=dict(
        type='SGD', lr=base_lr, momentum=0.9, weight_decay=5e-4,
        nesterov=True),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))

param_scheduler = [
    dict(
        type='mmdet.QuadraticWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=5,
        T_max=max_epochs - num_last_epochs,
        end=max_epochs - num_last_epochs,
        by_epoch=True,
        convert_to_iter_based=True),
    dict(
        type='ConstantLR',
        by_epoch=True,
        factor=1,
        begin=max_epochs - num_last_epochs,
        end=max_epochs)
]

custom_hooks = [
    # stage 1 / stage 2 switch: modules named 'backbones' (all streams)
    dict(
        type='FreezeScheduleHook',
        modules=['backbones'],
        freeze_epochs=freeze_epochs,
        freeze_batch_size=freeze_batch_size,
        unfreeze_batch_size=unfreeze_batch_size,
        unfreeze_lr=0.01 * unfreeze_batch_size / 64),
    # mmdet's YOLOXModeSwitchHook, also for augmentations that run in the
    # data preprocessor (the device augmentation path)
    dict(
        type='DualModalYOLOXModeSwitchHook',
        num_last_epochs=num_last_epochs,
        priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(
        type='EMAHook',
        ema_type='ForeachExpMomentumEMA',
        momentum=0.0001,
        update_buffers=True,
        priority=49),
    # fusion_stats.csv, epoch_loss.png / val_loss.png / lr.png, metrics.csv
    dict(type='FusionStatsHook'),
    dict(type='LossPlotHook'),
    dict(type='EpochCSVLoggerHook')
]

# --auto-scale-lr: the learning rates above are for 1 GPU x 8 images.
auto_scale_lr = dict(enable=False, base_batch_size=8)
