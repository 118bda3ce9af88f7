# Demo ablation: camera only on the generated sample (the yaw augmentation
# left out, as in trimodal-odom_camera-only_1xb2-5e_kitti.py).
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'
model = _base_.ablations.camera_only
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline
        if t['type'] != 'OdomGlobalYawRotation'
    ]))
