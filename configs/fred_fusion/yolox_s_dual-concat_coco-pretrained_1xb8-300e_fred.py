# The reference RGB + event YOLOX-s with both streams, the neck and the head
# started from mmdet's COCO-trained YOLOX-s: stage 1 of the schedule
# (backbones frozen for 50 epochs) then trains the fusion, neck and head on
# pretrained backbones, as the seed's two-stage schedule intends.
_base_ = [
    './yolox_s_dual-concat_1xb8-300e_fred.py',
    './_base_/models/yolox_s_coco-pretrained.py'
]

model = dict(
    data_preprocessor=_base_.coco_data_preprocessor,
    init_cfg=_base_.coco_init_cfg)
