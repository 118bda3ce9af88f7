# Demo, event stream alone: same model size, data and schedule as the dual
# demo.
_base_ = './yolox_w0125_dual-concat_1xb8-demo_fred-sample.py'

modality = 'event'  # the datasets' (set below)
model = _base_.single_modality.event.model
train_dataloader = _base_.single_modality.event.train_dataloader
val_dataloader = _base_.single_modality.event.val_dataloader
test_dataloader = val_dataloader
