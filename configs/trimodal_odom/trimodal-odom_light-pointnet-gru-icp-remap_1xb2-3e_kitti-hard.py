# The hard-sample model with the registration prior
# (``trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-hard.py``) on a
# better prior: each pair registered along its sequence from a predicted
# motion (the previous pair's translation, the gyro's rotation over the
# pair), with the directions the scans leave free (open road, long walls)
# kept at the prediction (``ScanRegistration(predict='imu',
# min_eigen_ratio=0.02)``, solution remapping). Such priors come from the
# cache only; build it after the conversion with this config's settings
# (THIS_CONFIG: the path of this file):
#   python tools/dataset_converters/kitti_reg_prior_cache.py data/kitti_hard \
#       --sequences 00,01,02,03,04,05,06,07,09,10 --nproc 2 \
#       --config THIS_CONFIG --out-dir data/kitti_hard/reg_priors_remap_imu
# Ablation: --cfg-options model.encoders.visual=None (LiDAR + IMU). The
# prior uses the IMU, so the ablations without it have their own config
# (``trimodal-odom_camera-lidar-icp-remap_1xb2-3e_kitti-hard.py``).
_base_ = './trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-hard.py'

prior_cache = _base_.data_root + 'reg_priors_remap_imu/'
train_pipeline, test_pipeline = ([
    dict(step, prior_cache=prior_cache, predict='imu', min_eigen_ratio=0.02)
    if step['type'] == 'OdomScanRegistration' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
