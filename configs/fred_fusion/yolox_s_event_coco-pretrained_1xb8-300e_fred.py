# Single-modality baseline from COCO: the event stream alone, started from
# mmdet's COCO-trained YOLOX-s like the dual model it compares with.
_base_ = [
    './yolox_s_event_1xb8-300e_fred.py',
    './_base_/models/yolox_s_coco-pretrained.py'
]

model = dict(
    data_preprocessor=_base_.coco_data_preprocessor,
    init_cfg=_base_.coco_init_cfg)
