# Quick test (seed's --quick_test): 100 training batches, then evaluation
# and checkpoints, to check a setup end to end.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

train_cfg = dict(max_epochs=1, val_interval=1)
train_dataloader = dict(num_batch_per_epoch=100)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1))
