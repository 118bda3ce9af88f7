# Camera + LiDAR on the hard sample, with the sequential registration
# prior of ``trimodal-odom_light-pointnet-gru-icp-remap_1xb2-3e_kitti-hard.py``
# made without the IMU: each pair registered from the previous pair's
# estimate (``predict='motion'``), degenerate directions kept at it. The
# ablations of the trimodal model that have no IMU use this config, so that
# the IMU reaches them neither through the model nor through the prior.
# Build its cache after the conversion (THIS_CONFIG: the path of this file):
#   python tools/dataset_converters/kitti_reg_prior_cache.py data/kitti_hard \
#       --sequences 00,01,02,03,04,05,06,07,09,10 --nproc 2 \
#       --config THIS_CONFIG --out-dir data/kitti_hard/reg_priors_remap_motion
# Ablation: --cfg-options model.encoders.visual=None (LiDAR only).
_base_ = './trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-hard.py'

prior_cache = _base_.data_root + 'reg_priors_remap_motion/'
train_pipeline, test_pipeline = ([
    dict(
        step, prior_cache=prior_cache, predict='motion', min_eigen_ratio=0.02)
    if step['type'] == 'OdomScanRegistration' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(encoders=dict(imu=None))
