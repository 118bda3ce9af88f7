# Camera + LiDAR + IMU odometry: ResNet-18 on the stacked frame pair,
# PointNet on the scan pair, GRU on the IMU window, point-cloud gated
# fusion with modality dropout, MLP pose head (translation + axis-angle).
# Any encoder set to None switches its modality off.  The data
# preprocessor comes from the dataset config
# (``model = dict(data_preprocessor=_base_.data_preprocessor)``).
feat_channels = 256
model = dict(
    type='TrimodalOdometry',
    encoders=dict(
        visual=dict(
            type='ImagePairEncoder',
            backbone=dict(
                type='mmdet.ResNet',
                depth=18,
                in_channels=6,
                num_stages=4,
                out_indices=(3, ),
                norm_cfg=dict(type='GN', num_groups=32),
                norm_eval=False,
                style='pytorch'),
            feat_channels=512,
            out_channels=feat_channels),
        point=dict(
            type='PointNetEncoder',
            in_channels=4,
            mlp_channels=(64, 128, 256),
            out_channels=feat_channels),
        imu=dict(
            type='GRUIMUEncoder',
            in_channels=6,
            hidden_channels=128,
            num_layers=2,
            out_channels=128)),
    fusion=dict(
        type='PointGateFusion',
        gate='vector',
        hidden_channels=64,
        modality_dropout=0.1,
        dropout=0.1),
    pose_head=dict(
        type='PoseRegressionHead',
        hidden_channels=(256, 128),
        loss_trans=dict(type='mmdet.L1Loss', loss_weight=1.0),
        loss_rot=dict(type='mmdet.L1Loss', loss_weight=100.0),
        # Mean and spread of the motion between two frames at 10 Hz
        # (camera frame: x right, y down, z forward; axis-angle in rad),
        # rounded from the ground truth of KITTI sequences 00, 09 and 10:
        # the MLP predicts the normalised deviation from the mean motion.
        pose_mean=[0.0, -0.015, 0.87, 0.0, 0.0, 0.0],
        pose_std=[0.03, 0.01, 0.3, 0.004, 0.02, 0.003]))

# The modality ablations, each what it changes in ``model``; a config
# applies one with ``model = _base_.ablations.<name>`` (the real-data and
# the sample configs alike).
soft_gate_fusion = dict(
    _delete_=True, type='SoftGateFusion', modality_dropout=0.1, dropout=0.1)
concat_fusion = dict(
    _delete_=True, type='ConcatFusion', modality_dropout=0.1, dropout=0.1)
ablations = dict(
    # camera + IMU: soft gated fusion, no point-cloud gate
    camera_imu=dict(encoders=dict(point=None), fusion=soft_gate_fusion),
    camera_only=dict(
        encoders=dict(point=None, imu=None), fusion=concat_fusion),
    lidar_imu=dict(encoders=dict(visual=None)),
    lidar_only=dict(
        encoders=dict(visual=None, imu=None), fusion=concat_fusion),
    # soft (feature-wise) gating of all features instead of the point gate
    soft_gate=dict(fusion=soft_gate_fusion))
