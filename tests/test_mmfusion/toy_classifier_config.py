# Tiny classifier on seeded random points (tests.test_mmfusion.toy_modules)
# with the shared runtime: 5 epochs of 4 iterations, validation after each.
_base_ = ['../../configs/_base_/default_runtime.py']

custom_imports = dict(
    imports=['mmfusion.engine', 'tests.test_mmfusion.toy_modules'],
    allow_failed_imports=False)

model = dict(type='ToyClassifier')

train_dataloader = dict(
    batch_size=6,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='ResumableBatchSampler'),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyDataset', num_samples=24))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyDataset', num_samples=12, seed=1, augment=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='ToyAccuracy')
test_evaluator = val_evaluator

train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=5, val_interval=1)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    type='FiniteOptimWrapper',
    action='raise',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', milestones=[3], gamma=0.1, by_epoch=True)
]

# Checkpoints go through the ``toy_killing`` backend, a local backend that
# can die half-way through a write when ``TOY_KILL=save:<n>`` is set.
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(
        max_keep_ckpts=2, backend_args=dict(backend='toy_killing')))
log_processor = dict(window_size=1)
vis_backends = [dict(type='LocalVisBackend')]
# Local scalars only (no TensorBoard event files in the tests).
visualizer = dict(vis_backends=vis_backends)
randomness = dict(seed=2024, deterministic=True)
