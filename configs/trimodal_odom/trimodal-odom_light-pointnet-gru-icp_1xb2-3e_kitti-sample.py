# The demo model with a geometric prior: the LiDAR registration of the two
# scans of a pair (small_gicp VGICP, computed once for every pair of the
# data and read by OdomScanRegistration) gives a relative pose that
# PriorResidualPoseHead corrects from the fused features; samples without
# LiDAR (or whose registration failed) are regressed as in the base config.
# Same data, schedule and encoders as
#   trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py
# Compute the priors after the conversion (see the base dataset config),
# with this config's registration settings:
#   python tools/dataset_converters/kitti_reg_prior_cache.py \
#       data/kitti_sample --config THIS_CONFIG
# Ablations of this model: --cfg-options model.encoders.visual=None (LiDAR +
# IMU), model.encoders.imu=None, ... (a model without the point encoder
# ignores the prior).
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'

# priors read from data_root/infos/kitti_reg_priors_XX.npz (the cache's
# registration settings must be these; the cache refuses others). The
# sample's scans are sparse (32 beams x 512 azimuths, about 16,000 points):
# finer than ScanRegistration's defaults, which suit full 124,000-point
# HDL-64 scans, and a third, 0.25 m level (docs/benchmarks.md, "With the
# LiDAR ICP prior": 0.085 % t_rel for the prior alone on 09 against 0.461 %
# with the former defaults, every point at 0.5 m).
registration = dict(
    type='OdomScanRegistration',
    prior_cache=_base_.data_root + _base_.info_dir,
    downsample=0.1,
    voxel_sizes=(3.0, 0.8, 0.25),
    max_correspondence=(3.0, 0.5, 0.25),
    max_iterations=(20, 20, 20))
# loading and range filter as in the base pipelines, then the registration
train_pipeline = _base_.load_steps + [
    # rotate the clouds first: the cached prior is rotated like the target
    dict(
        type='OdomGlobalYawRotation',
        rot_range=[-0.3927, 0.3927],
        prob=0.3,
        camera='drop'),
    registration,
    dict(type='OdomPointDropout', drop_ratio=(0.0, 0.2), prob=0.5),
    dict(type='OdomPointSample', num_points=_base_.num_points),
    dict(type='OdomPhotoMetricJitter', brightness=0.2, contrast=0.2),
    dict(type='NormalizeOdomIMU', stats_file=_base_.imu_stats_file),
    dict(type='PackOdomInputs'),
]
test_pipeline = _base_.load_steps + [
    registration,
    dict(
        type='OdomPointSample',
        num_points=_base_.num_points,
        deterministic=True),
    dict(type='NormalizeOdomIMU', stats_file=_base_.imu_stats_file),
    dict(type='PackOdomInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    pose_head=dict(
        type='PriorResidualPoseHead',
        residual_std=[0.02, 0.02, 0.02, 0.002, 0.002, 0.002],
        prior_dropout=0.2))
