# Ablation: camera only.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = _base_.ablations.camera_only
# The yaw augmentation of the clouds marks the camera of a sample absent;
# a camera-only model needs the camera in every sample.
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline
        if t['type'] != 'OdomGlobalYawRotation'
    ]))
