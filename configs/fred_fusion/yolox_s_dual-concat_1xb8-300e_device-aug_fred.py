# yolox_s_dual-concat_1xb8-300e_fred.py on the device augmentation path:
# the workers only load one RGB and one event frame per sample at 640x360;
# Mosaic, RandomAffine, MixUp, HSV, flip, resize and pad run on the batch
# on the GPU (``_base_/datasets/fred_device-aug.py``), then the multi-scale
# resize as before. Same model, schedule and settings otherwise.
_base_ = [
    './_base_/models/yolox_dual.py', './_base_/datasets/fred_device-aug.py',
    './_base_/schedules/schedule_freeze50e-300e.py',
    './_base_/default_runtime.py'
]

model = dict(
    data_preprocessor=dict(
        # the pinned batch is copied while the GPU still works
        non_blocking=True,
        # padded_gt: the ground truths stay padded batch tensors through to
        # the head (BatchedYOLOXHead), so the box counts are never read
        raw_batch_augments=[dict(_base_.batch_yolox_augment, padded_gt=True)]))

# A training step that never waits for the GPU, so that the host queues
# the next iteration while the GPU runs this one (docs/benchmarks.md,
# "host synchronisations"): the non-finite loss check is read one
# iteration late (the fused SGD, or under --amp the loss scaler, skips a
# bad step on the device), and so are the logged losses.
optim_wrapper = dict(deferred=True, optimizer=dict(fused=True))
default_hooks = dict(runtime_info=dict(type='DeferredRuntimeInfoHook'))

# as yolox_s_dual-concat_1xb8-300e_fred.py
val_evaluator = dict(type='FREDCocoMetric', classwise=True)
test_evaluator = val_evaluator
