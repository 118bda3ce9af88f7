# AdamW, lr 1e-4, 5 epochs, validation after every epoch.
# ``--learning_rate``: ``optim_wrapper.optimizer.lr``;
# ``--num_epochs``: ``train_cfg.max_epochs``.
# ``--resume`` continues an interrupted epoch with its remaining batches.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=5, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# FiniteOptimWrapper: a NaN / inf loss stops the run (action='skip': skips
# the iteration); tools/train.py --amp makes it FiniteAmpOptimWrapper.
optim_wrapper = dict(
    type='FiniteOptimWrapper',
    action='raise',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=10.0, norm_type=2))
param_scheduler = []

# ``--auto-scale-lr`` scales the lr from this total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=2)
