# Real KITTI odometry (data/kitti_odometry) with IMU from the KITTI raw
# drives (data/kitti_raw).  Convert once:
#   python tools/dataset_converters/kitti_odom_converter.py \
#       data/kitti_odometry --raw-root data/kitti_raw \
#       --sequences 00,01,02,03,04,05,06,07,08,09,10 \
#       --stats-sequences 00,01,02,03,04,05,06,07,08
# Sequence 03 has no raw drive: its samples run with the IMU marked absent
# (``imu_missing='zero'``); use 'drop' to leave it out, 'error' to refuse.
# The model / runtime configs set ``default_scope = 'mmdet3d'`` and import
# the project's runtime packages through ``custom_imports``.
dataset_type = 'KittiOdometryDataset'
data_root = 'data/kitti_odometry/'
# Seed option ``--data_path``: ``data_root``; ``--pointcloud_path``:
# ``*_dataloader.dataset.data_prefix.pts`` (same sequences/XX/velodyne
# layout below it); ``--train_sequences``: ``train_sequences``.
train_sequences = '00,01,02,03,04,05,06,07,08'
val_sequences = '09,10'
info_dir = 'infos'
imu_stats_file = data_root + 'infos/imu_stats.json'
modality = dict(use_camera=True, use_lidar=True, use_imu=True)
frame_gap = 1
imu_max_len = 32
img_scale = (640, 192)  # (w, h)
num_points = 8192
point_cloud_range = [-80.0, -80.0, -3.0, 80.0, 80.0, 3.0]
backend_args = None

data_preprocessor = dict(
    type='OdometryDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)

# loading and range filter, the start of both pipelines
load_steps = [
    dict(type='LoadOdomImages', scale=img_scale, backend_args=backend_args),
    dict(
        type='LoadOdomPoints',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='OdomPointsRangeFilter', point_cloud_range=point_cloud_range),
]
train_pipeline = load_steps + [
    dict(type='OdomPointDropout', drop_ratio=(0.0, 0.2), prob=0.5),
    dict(type='OdomPointSample', num_points=num_points),
    # The camera cannot follow a yaw rotation of the clouds: rotated samples
    # keep their images but mark the camera absent (``camera='drop'``).
    dict(
        type='OdomGlobalYawRotation',
        rot_range=[-0.3927, 0.3927],
        prob=0.3,
        camera='drop'),
    dict(type='OdomPhotoMetricJitter', brightness=0.2, contrast=0.2),
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]
test_pipeline = load_steps + [
    dict(type='OdomPointSample', num_points=num_points, deterministic=True),
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]

# The two datasets differ in their sequences, pipeline and test mode.
odom_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    info_dir=info_dir,
    frame_gap=frame_gap,
    modality=modality,
    imu_missing='zero',
    imu_max_len=imu_max_len,
    data_prefix=dict(img='', pts=''))
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # Each sample is loaded under its own seed (reproducible with any
    # number of workers), and a run resumed inside an epoch skips the
    # batches it already trained on.
    batch_sampler=dict(type='ResumableBatchSampler'),
    collate_fn=dict(type='odom_collate'),
    dataset=dict(
        odom_dataset,
        sequences=train_sequences,
        pipeline=train_pipeline,
        test_mode=False))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='odom_collate'),
    dataset=dict(
        odom_dataset,
        sequences=val_sequences,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
