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
        raw_batch_augments=[_base_.batch_yolox_augment]))

# as yolox_s_dual-concat_1xb8-300e_fred.py
val_evaluator = dict(type='FREDCocoMetric', classwise=True)
test_evaluator = val_evaluator
