# Camera + LiDAR with the quality gates of
# ``trimodal-odom_light-pointnet-gru-icp-remap-quality-gate_1xb2-3e_kitti-hard.py``
# on the sequential prior made without the IMU (``predict='motion'``), that
# of ``trimodal-odom_camera-lidar-icp-remap_1xb2-3e_kitti-hard.py``, whose
# cache it reads (build it as that config says), so that the IMU reaches
# these ablations neither through the model nor through the prior.
# Ablation: --cfg-options model.encoders.visual=None (LiDAR only).
_base_ = ('./trimodal-odom_light-pointnet-gru-icp-remap-quality-gate_'
          '1xb2-3e_kitti-hard.py')

prior_cache = _base_.data_root + 'reg_priors_remap_motion/'
train_pipeline, test_pipeline = ([
    dict(step, prior_cache=prior_cache, predict='motion')
    if step['type'] == 'OdomScanRegistration' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(encoders=dict(imu=None))
