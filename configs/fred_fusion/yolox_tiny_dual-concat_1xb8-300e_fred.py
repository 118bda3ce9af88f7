# YOLOX-tiny size: narrower streams and head, smaller multi-scale range.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

widen_factor = 0.375
neck_channels = 96
model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(
            type='DualModalBatchSyncRandomResize',
            random_size_range=(320, 640),
            size_divisor=32,
            interval=10)
    ]),
    backbone=dict(widen_factor=widen_factor),
    fusion_neck=dict(
        in_channels=[int(c * widen_factor) for c in (256, 512, 1024)]),
    neck=dict(out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels, feat_channels=neck_channels))
