# Single-modality baseline: the RGB stream alone, same schedule and head.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

modality = 'rgb'
model = dict(
    modalities=(modality, ), data_preprocessor=dict(modalities=(modality, )))
train_dataloader = dict(dataset=dict(dataset=dict(modality=modality)))
val_dataloader = dict(dataset=dict(modality=modality))
test_dataloader = val_dataloader
