# FRED dataset settings: the built-in generated sample at data/fred_sample.
#
# Build the sample and its fusion annotation files first:
#   python tools/dataset_converters/fred_converter.py data/fred_sample
# The project's runtime packages (``custom_imports``) and
# ``default_scope = 'mmdet'`` are set by the runtime config.
#
# The variables below are read once, when this file is loaded; a child
# config that changes one must also override the fields that use it: a
# single-modality run applies ``../single_modality.py``, another data root
# is set in the datasets as in ``fred.py``, and a new ``img_scale`` means
# restating ``train_pipeline`` / ``test_pipeline`` and the ``pipeline``
# fields of the loaders.
dataset_type = 'FREDDataset'
data_root = 'data/fred_sample/'
# 'rgb', 'event' or 'dual'
modality = 'dual'
# (width, height) of the network input
img_scale = (640, 640)
# Largest |event time - RGB time| (s) of a pair; None: the file's value.
fusion_threshold = None
# True: train on paired samples only (the unpaired ones are counted).
use_fusion_info = True
# True: read the event frames from the lossless sparse cache, built with
#   python tools/dataset_converters/fred_event_cache.py data/fred_sample
# The frames are bit-identical to the decoded PNGs and load far faster
# (no zlib inflate); frames of more than three colours are not cached and
# come from their PNG. Local files only.
event_cache = False
backend_args = None

# Geometric transforms run through ``SyncTransform``: the RGB frame, the
# event frame and the boxes get exactly the same warp. Photometric ones go
# through ``RGBOnly`` and leave the event frame untouched.
train_pipeline = [
    dict(
        type='SyncTransform',
        transform=dict(type='Mosaic', img_scale=img_scale, pad_val=114.0)),
    dict(
        type='SyncTransform',
        transform=dict(
            type='RandomAffine',
            scaling_ratio_range=(0.1, 2),
            # img_scale is (width, height)
            border=(-img_scale[0] // 2, -img_scale[1] // 2))),
    # Optional: remove this step to train without MixUp.
    dict(
        type='SyncTransform',
        transform=dict(
            type='MixUp',
            img_scale=img_scale,
            ratio_range=(0.8, 1.6),
            pad_val=114.0)),
    dict(type='RGBOnly', transform=dict(type='YOLOXHSVRandomAug')),
    dict(type='SyncTransform', transform=dict(type='RandomFlip', prob=0.5)),
    # Resize and Pad act alone in the last epochs, when
    # YOLOXModeSwitchHook turns Mosaic, RandomAffine and MixUp off.
    dict(
        type='SyncTransform',
        transform=dict(type='Resize', scale=img_scale, keep_ratio=True)),
    dict(
        type='SyncTransform',
        transform=dict(
            type='Pad',
            pad_to_square=True,
            pad_val=dict(img=(114.0, 114.0, 114.0)))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDualModalInputs')
]

# What the training and the test datasets share.
fred_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img=''),
    modality=modality,
    fusion_threshold=fusion_threshold,
    use_fusion_info=use_fusion_info,
    backend_args=backend_args)
train_dataset = dict(
    # Like mmdet's MultiImageMixDataset (Mosaic / MixUp partners), and it
    # sees through SyncTransform for YOLOXModeSwitchHook's skip list.
    type='MultiModalMixDataset',
    dataset=dict(
        fred_dataset,
        ann_file='annotations/fred_fusion_train.json',
        pipeline=[
            dict(
                type='LoadFREDImages',
                event_cache=event_cache,
                backend_args=backend_args),
            dict(type='LoadAnnotations', with_bbox=True)
        ],
        filter_cfg=dict(filter_empty_gt=False, min_size=32)),
    pipeline=train_pipeline)

test_pipeline = [
    dict(
        type='LoadFREDImages',
        event_cache=event_cache,
        backend_args=backend_args),
    dict(
        type='SyncTransform',
        transform=dict(type='Resize', scale=img_scale, keep_ratio=True)),
    dict(
        type='SyncTransform',
        transform=dict(
            type='Pad',
            pad_to_square=True,
            pad_val=dict(img=(114.0, 114.0, 114.0)))),
    dict(type='LoadAnnotations', with_bbox=True),
    # 'instances' (boxes in original pixels) lets CocoMetric build the
    # ground truth itself: no COCO json is needed.
    dict(
        type='PackDualModalInputs',
        meta_keys=('img_id', 'img_path', 'event_path', 'ori_shape',
                   'img_shape', 'scale_factor', 'flip', 'flip_direction',
                   'pad_shape', 'paired', 'time_diff', 'instances'))
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # Each sample is loaded under its own seed (reproducible with any
    # number of workers), and a run resumed inside an epoch skips the
    # batches it already trained on.
    batch_sampler=dict(type='ResumableBatchSampler'),
    dataset=train_dataset)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        fred_dataset,
        ann_file='annotations/fred_fusion_test.json',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# COCO mAP / mAP50 / mAP75 for every modality; the ground truth comes from
# the data samples (ann_file=None).
val_evaluator = dict(
    type='CocoMetric', ann_file=None, metric='bbox', backend_args=backend_args)
test_evaluator = val_evaluator
