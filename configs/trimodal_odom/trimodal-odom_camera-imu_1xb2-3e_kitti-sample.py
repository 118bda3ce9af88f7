# Demo ablation: camera + IMU on the generated sample.
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'
model = dict(
    encoders=dict(point=None),
    fusion=dict(
        _delete_=True,
        type='SoftGateFusion',
        modality_dropout=0.1,
        dropout=0.1))
