# RGB + event YOLOX-s, concat fusion (compression ratio 0.5), seed defaults:
# fusion threshold 0.1 s (converter), backbones frozen 50 of 300 epochs,
# batch 8 frozen / 4 unfrozen.
_base_ = [
    './_base_/models/yolox_dual.py', './_base_/datasets/fred.py',
    './_base_/schedules/schedule_freeze50e-300e.py',
    './_base_/default_runtime.py', './_base_/single_modality.py'
]

# COCO mAP, mAP50, mAP75 and per-class AP; zeros (not nothing) while the
# model detects nothing, so the best checkpoint is always defined.
val_evaluator = dict(type='FREDCocoMetric', classwise=True)
test_evaluator = val_evaluator
