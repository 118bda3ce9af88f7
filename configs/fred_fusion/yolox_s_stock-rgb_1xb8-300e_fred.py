# Stock mmdet YOLOX-s on the RGB frames of FRED: mmdet's model, data
# preprocessor (multi-scale 480-800), training pipeline (mmdet's own Mosaic,
# RandomAffine, MixUp, HSV, flip, resize, pad, PackDetInputs), schedule and
# hooks, as `mmdet::yolox/yolox_s_8xb8-300e_coco.py` has them. The baseline
# that `tools/analysis_tools/benchmark_train_e2e.py` compares this project's
# models with, on the same frames and samples as `yolox_s_rgb_1xb8-300e_fred`.
#
# Changed: the dataset (this project's FREDDataset in rgb mode reads the
# fusion annotation files; its samples carry `img_path`, so mmdet's
# LoadImageFromFile and LoadAnnotations load them), five classes, the batch
# size and workers of this project's FRED configs (lr scaled to the batch),
# and the evaluation (this project's COCO metric from the samples' boxes,
# which the test pipeline packs as `instances`).
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(
    imports=[
        'mmfusion.engine', 'projects.fred_fusion.fred_fusion.datasets',
        'projects.fred_fusion.fred_fusion.evaluation'
    ],
    allow_failed_imports=False)

data_root = 'data/FRED/'
batch_size = 8
num_workers = 2

model = dict(bbox_head=dict(num_classes=5))

# the RGB frames and boxes of the fusion annotation files
fred_rgb = dict(
    _delete_=True,
    type='FREDDataset',
    modality='rgb',
    data_root=data_root,
    data_prefix=dict(img=''))

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    dataset=dict(
        dataset=dict(
            fred_rgb,
            ann_file='annotations/fred_fusion_train.json',
            pipeline=_base_.train_dataset.dataset.pipeline,
            filter_cfg=dict(filter_empty_gt=False, min_size=32))))

test_pipeline = _base_.test_pipeline[:-1] + [
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'instances'))
]
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    dataset=dict(
        fred_rgb,
        ann_file='annotations/fred_fusion_test.json',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True, type='FREDCocoMetric', ann_file=None, classwise=True)
test_evaluator = val_evaluator

# YOLOX's lr 0.01 is for a batch of 64
optim_wrapper = dict(optimizer=dict(lr=0.01 * batch_size / 64))
auto_scale_lr = dict(base_batch_size=batch_size)
