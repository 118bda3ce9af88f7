# Stage 1 only (seed's --freeze_training): the first 50 epochs of the
# two-stage schedule, backbones frozen throughout, batch 8.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

train_cfg = dict(max_epochs=50)
