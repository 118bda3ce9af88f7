# Single-modality baseline from COCO: the event stream alone, started from
# mmdet's COCO-trained YOLOX-s like the dual model it compares with.
_base_ = './yolox_s_dual-concat_coco-pretrained_1xb8-300e_fred.py'

modality = 'event'
model = dict(
    modalities=(modality, ), data_preprocessor=dict(modalities=(modality, )))
train_dataloader = dict(dataset=dict(dataset=dict(modality=modality)))
val_dataloader = dict(dataset=dict(modality=modality))
test_dataloader = val_dataloader
