# Generated KITTI odometry sample (real on-disk layout, a few seconds of
# driving) for smoke runs and tests.  Create it, then convert it:
#   python tools/misc/generate_kitti_sample.py data/kitti_sample \
#       --sequences 00,09
#   python tools/dataset_converters/kitti_odom_converter.py \
#       data/kitti_sample
# Train on sequence 00, validate on sequence 09 (as the real split).
# The model / runtime configs set ``default_scope = 'mmdet3d'`` and import
# ``projects.trimodal_odom.trimodal_odom`` through ``custom_imports``.
dataset_type = 'KittiOdometryDataset'
data_root = 'data/kitti_sample/'
# Seed option ``--data_path``: ``data_root``; ``--pointcloud_path``:
# ``*_dataloader.dataset.data_prefix.pts`` (same sequences/XX/velodyne
# layout below it); ``--train_sequences``: ``train_sequences``.
train_sequences = '00'
val_sequences = '09'
info_dir = 'infos'
imu_stats_file = data_root + 'infos/imu_stats.json'
modality = dict(use_camera=True, use_lidar=True, use_imu=True)
frame_gap = 1
imu_max_len = 32
img_scale = (320, 96)  # (w, h)
num_points = 1024
point_cloud_range = [-40.0, -40.0, -3.0, 40.0, 40.0, 3.0]
backend_args = None

data_preprocessor = dict(
    type='OdometryDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)

train_pipeline = [
    dict(type='LoadOdomImages', scale=img_scale, backend_args=backend_args),
    dict(
        type='LoadOdomPoints',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='OdomPointsRangeFilter', point_cloud_range=point_cloud_range),
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
test_pipeline = [
    dict(type='LoadOdomImages', scale=img_scale, backend_args=backend_args),
    dict(
        type='LoadOdomPoints',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='OdomPointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='OdomPointSample', num_points=num_points, deterministic=True),
    dict(type='NormalizeOdomIMU', stats_file=imu_stats_file),
    dict(type='PackOdomInputs'),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # Each sample is loaded under its own seed (reproducible with any
    # number of workers), and a run resumed inside an epoch skips the
    # batches it already trained on.
    batch_sampler=dict(type='ResumableBatchSampler'),
    collate_fn=dict(type='odom_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        sequences=train_sequences,
        info_dir=info_dir,
        frame_gap=frame_gap,
        modality=modality,
        imu_missing='zero',
        imu_max_len=imu_max_len,
        data_prefix=dict(img='', pts=''),
        pipeline=train_pipeline,
        test_mode=False))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='odom_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        sequences=val_sequences,
        info_dir=info_dir,
        frame_gap=frame_gap,
        modality=modality,
        imu_missing='zero',
        imu_max_len=imu_max_len,
        data_prefix=dict(img='', pts=''),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
