# Demo, RGB stream alone: same model size, data and schedule as the dual
# demo.
_base_ = './yolox_w0125_dual-concat_1xb8-demo_fred-sample.py'

modality = 'rgb'
model = dict(
    modalities=(modality, ), data_preprocessor=dict(modalities=(modality, )))
train_dataloader = dict(dataset=dict(dataset=dict(modality=modality)))
val_dataloader = dict(dataset=dict(modality=modality))
test_dataloader = val_dataloader
