# Ablation: camera only.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = dict(
    encoders=dict(point=None, imu=None),
    fusion=dict(
        _delete_=True, type='ConcatFusion', modality_dropout=0.1, dropout=0.1))
# The yaw augmentation of the clouds marks the camera of a sample absent;
# a camera-only model needs the camera in every sample.
train_dataloader = dict(
    dataset=dict(pipeline=[
        t for t in _base_.train_pipeline
        if t['type'] != 'OdomGlobalYawRotation'
    ]))
