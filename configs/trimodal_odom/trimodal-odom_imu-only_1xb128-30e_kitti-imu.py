# IMU-only odometry on the real KITTI IMU: a one-layer GRU over the ten IMU
# samples between two frames, no camera and no LiDAR encoder, trained on
# 00-08 (without 03, which has no IMU) and validated on 09 and 10 with the
# KITTI metric.  Small enough for a CPU: about 20,000 pairs an epoch.
#   python tools/train.py configs/trimodal_odom/<this config>
# Gyro-integration and constant-velocity baselines from the same files:
#   python tools/analysis_tools/kitti_imu_baselines.py data/kitti_imu \
#       --frame-period 0.1 --out-dir work_dirs/kitti_imu_baselines
_base_ = [
    './_base_/models/trimodal_odom.py', './_base_/datasets/kitti_odom_imu.py',
    './_base_/schedules/adamw_5e.py', './_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=_base_.data_preprocessor,
    encoders=dict(
        visual=None,
        point=None,
        imu=dict(hidden_channels=64, num_layers=1, out_channels=64)),
    fusion=dict(_base_.concat_fusion, modality_dropout=0.0, dropout=0.0),
    pose_head=dict(hidden_channels=(128, 64)))

train_cfg = dict(max_epochs=30, val_interval=5)
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=30, eta_min=1e-5, by_epoch=True)
]
default_hooks = dict(logger=dict(interval=50))
