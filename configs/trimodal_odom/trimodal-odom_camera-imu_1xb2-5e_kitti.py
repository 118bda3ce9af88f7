# Ablation: camera + IMU (soft gated fusion, no point-cloud gate).
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = dict(
    encoders=dict(point=None),
    fusion=dict(
        _delete_=True,
        type='SoftGateFusion',
        modality_dropout=0.1,
        dropout=0.1))
