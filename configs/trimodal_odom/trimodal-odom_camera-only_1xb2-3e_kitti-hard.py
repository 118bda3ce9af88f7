# Hard-sample ablation: camera only (no LiDAR, hence no registration prior),
# the same data, schedule and encoders as
#   trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py'
model = _base_.ablations.camera_only
# the base train pipeline without the yaw rotation, which turns the clouds
# and drops the camera of the rotated pairs (it serves the LiDAR models)
train_pipeline = [
    step for step in _base_.train_pipeline
    if step['type'] != 'OdomGlobalYawRotation'
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
