# Single-modality baseline: the RGB stream alone, same schedule and head.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

modality = 'rgb'  # the datasets' (set below)
model = _base_.single_modality.rgb.model
train_dataloader = _base_.single_modality.rgb.train_dataloader
val_dataloader = _base_.single_modality.rgb.val_dataloader
test_dataloader = val_dataloader
