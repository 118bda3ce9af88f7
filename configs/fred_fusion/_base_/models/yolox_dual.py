# YOLOX-s with one CSPDarknet stream per modality (RGB, event), fused after
# C3, C4 and C5, then the stock YOLOX PAFPN neck and head.
# A child changing the size sets ``widen_factor`` / ``deepen_factor`` and
# restates the fields computed from them below.
widen_factor = 0.5
deepen_factor = 0.33
neck_channels = 128
# BGR images are converted to RGB; each modality has its own statistics.
# Event frames are mostly dark background (about (30, 37, 52) in RGB).
modal_mean = dict(rgb=[123.675, 116.28, 103.53], event=[30.0, 37.0, 52.0])
modal_std = dict(rgb=[58.395, 57.12, 57.375], event=[57.0, 57.0, 57.0])

model = dict(
    type='DualStreamYOLOX',
    modalities=('rgb', 'event'),
    share_weights=False,
    data_preprocessor=dict(
        type='DualModalDetDataPreprocessor',
        modalities=('rgb', 'event'),
        mean=modal_mean,
        std=modal_std,
        bgr_to_rgb=True,
        pad_size_divisor=32,
        batch_augments=[
            dict(
                type='DualModalBatchSyncRandomResize',
                random_size_range=(480, 800),
                size_divisor=32,
                interval=10)
        ]),
    # one backbone per modality: ``backbones.rgb``, ``backbones.event``
    backbone=dict(
        type='CSPDarknet',
        deepen_factor=deepen_factor,
        widen_factor=widen_factor),
    # CSPDarknet's C3, C4, C5 channels; the neck's in_channels are set from
    # the fusion neck's output channels by the detector.
    fusion_neck=dict(
        type='FusionNeck',
        in_channels=[int(c * widen_factor) for c in (256, 512, 1024)],
        mode='concat',
        compression_ratio=0.5),
    neck=dict(type='YOLOXPAFPN', out_channels=neck_channels, num_csp_blocks=1),
    # YOLOXHead with SimOTA assigned for the whole batch at once: the same
    # losses and assignments, without the per-image Python loop
    bbox_head=dict(
        type='BatchedYOLOXHead',
        num_classes=5,
        in_channels=neck_channels,
        feat_channels=neck_channels),
    # optional pairing discriminator: see the *-pairdisc config
    # loss of the validation batches, logged as val/loss
    val_loss=True,
    # weights and images in channels-last layout: faster convolutions on
    # GPUs (1.4x per training step on an H200) and on CPUs
    channels_last=True,
    train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
    # score 0.01 for validation as YOLOX; NMS as YOLOX
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))
