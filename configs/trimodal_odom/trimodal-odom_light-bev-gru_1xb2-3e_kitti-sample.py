# Demo variant: the LiDAR pair as bird's-eye-view maps encoded by a 2-D CNN
# (BEVPairEncoder) instead of PointNet; everything else as the demo.
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'
model = dict(
    encoders=dict(
        point=dict(
            _delete_=True,
            type='BEVPairEncoder',
            point_cloud_range=[-32.0, -32.0, -3.0, 32.0, 32.0, 3.0],
            voxel_size=[0.4, 0.4],
            backbone=dict(type='LightConvNet', in_channels=4),
            feat_channels=256,
            out_channels=256)))
