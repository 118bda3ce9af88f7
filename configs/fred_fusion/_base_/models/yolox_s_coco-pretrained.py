# Start of the *_coco-pretrained configs: mmdet's COCO-trained YOLOX-s
# (configs/yolox/metafile.yml of mmdet: yolox_s_8x8_300e_coco, box AP 40.5).
# ``backbone.*`` of the checkpoint goes into every stream; the neck and the
# head load by name; the 80-class classifier is left at its initialisation
# (5 classes here), and everything not loaded is named in the log. A child
# sets
#   model = dict(data_preprocessor=_base_.coco_data_preprocessor,
#                init_cfg=_base_.coco_init_cfg)
# Another checkpoint (any mmdet YOLOX of the same size, a URL or a path):
#   --cfg-options model.init_cfg.checkpoint=PATH
coco_checkpoint = (
    'https://download.openmmlab.com/mmdetection/v2.0/yolox/'
    'yolox_s_8x8_300e_coco/yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth')
coco_init_cfg = dict(type='StreamPretrained', checkpoint=coco_checkpoint)
# The input the COCO backbone was trained on (mmdet's YOLOX): BGR pixels
# 0-255 without normalisation, for every stream, so that the frozen
# backbones of stage 1 and their BatchNorm statistics see what they were
# fitted to.
coco_data_preprocessor = dict(mean=None, std=None, bgr_to_rgb=False)
