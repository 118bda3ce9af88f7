# The reference RGB + event YOLOX-s with every stream, the neck and the
# head started from mmdet's COCO-trained YOLOX-s: stage 1 of the schedule
# (backbones frozen for 50 epochs) then trains the fusion, neck and head on
# pretrained backbones, as the seed's two-stage schedule intends.
# ``backbone.*`` of the checkpoint goes into both streams; the 80-class
# classifier is left at its initialisation (5 classes here); everything not
# loaded is named in the log. Another checkpoint (any mmdet YOLOX of the
# same size, a URL or a path):
#   --cfg-options model.init_cfg.checkpoint=PATH
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

# mmdet's yolox_s_8x8_300e_coco (configs/yolox/metafile.yml: box AP 40.5)
coco_checkpoint = (
    'https://download.openmmlab.com/mmdetection/v2.0/yolox/'
    'yolox_s_8x8_300e_coco/yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth')

model = dict(
    # The input the COCO backbone was trained on (mmdet's YOLOX): BGR pixels
    # 0-255 without normalisation, for both streams, so that the frozen
    # backbones and their BatchNorm statistics see what they were fitted to.
    data_preprocessor=dict(mean=None, std=None, bgr_to_rgb=False),
    init_cfg=dict(type='StreamPretrained', checkpoint=coco_checkpoint))
