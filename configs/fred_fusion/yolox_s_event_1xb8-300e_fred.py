# Single-modality baseline: the event stream alone, same schedule and head.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

modality = 'event'  # the datasets' (set below)
model = _base_.single_modality.event.model
train_dataloader = _base_.single_modality.event.train_dataloader
val_dataloader = _base_.single_modality.event.val_dataloader
test_dataloader = val_dataloader
