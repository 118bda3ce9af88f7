# Demo ablation: LiDAR only on the generated sample.
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'
model = dict(
    encoders=dict(visual=None, imu=None),
    fusion=dict(
        _delete_=True, type='ConcatFusion', modality_dropout=0.1, dropout=0.1))
