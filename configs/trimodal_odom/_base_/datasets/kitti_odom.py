# Real KITTI odometry (data/kitti_odometry) with IMU from the KITTI raw
# drives (data/kitti_raw).  Convert once:
#   python tools/dataset_converters/kitti_odom_converter.py \
#       data/kitti_odometry --raw-root data/kitti_raw \
#       --sequences 00,01,02,03,04,05,06,07,08,09,10 \
#       --stats-sequences 00,01,02,03,04,05,06,07,08
# Sequence 03 has no raw drive: its samples run with the IMU marked absent
# (``imu_missing='zero'``); use 'drop' to leave it out, 'error' to refuse.
_base_ = ['./kitti_odom_sample.py']

data_root = 'data/kitti_odometry/'
train_sequences = '00,01,02,03,04,05,06,07,08'
val_sequences = '09,10'
imu_stats_file = data_root + 'infos/imu_stats.json'
img_scale = (640, 192)  # (w, h)
num_points = 8192
point_cloud_range = [-80.0, -80.0, -3.0, 80.0, 80.0, 3.0]

train_pipeline = [
    dict(type='LoadOdomImages', scale=img_scale),
    dict(type='LoadOdomPoints', coord_type='LIDAR', load_dim=4, use_dim=4),
    dict(type='OdomPointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='OdomPointDropout', drop_ratio=(0.0, 0.2), prob=0.5),
    dict(type='OdomPointSample', num_points=num_points),
    dict(
        type='OdomGlobalYawRotation',
        rot_range=[-0.3927, 0.3927],
        prob=0.3,
        camera='drop'),
    dict(type='OdomPhotoMetricJitter', brightness=0.2, contrast=0.2),
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]
test_pipeline = [
    dict(type='LoadOdomImages', scale=img_scale),
    dict(type='LoadOdomPoints', coord_type='LIDAR', load_dim=4, use_dim=4),
    dict(type='OdomPointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='OdomPointSample', num_points=num_points, deterministic=True),
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root,
        sequences=train_sequences,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root, sequences=val_sequences, pipeline=test_pipeline))
test_dataloader = val_dataloader
