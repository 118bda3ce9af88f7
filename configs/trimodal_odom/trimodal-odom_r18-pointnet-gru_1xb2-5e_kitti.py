# Full trimodal model on KITTI odometry: train 00-08, validate 09-10.
_base_ = [
    './_base_/models/trimodal_odom.py', './_base_/datasets/kitti_odom.py',
    './_base_/schedules/adamw_5e.py', './_base_/default_runtime.py'
]
model = dict(data_preprocessor=_base_.data_preprocessor)
