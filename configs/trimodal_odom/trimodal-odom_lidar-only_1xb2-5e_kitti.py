# Ablation: LiDAR only.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = dict(
    encoders=dict(visual=None, imu=None),
    fusion=dict(
        _delete_=True, type='ConcatFusion', modality_dropout=0.1, dropout=0.1))
