# The hard-sample model on the sequential, remapped prior
# (``trimodal-odom_light-pointnet-gru-icp-remap_1xb2-3e_kitti-hard.py``,
# whose prior cache it reads: build it as that config says) with a fusion
# that weighs each sensor by what tells whether it works now
# (``QualityGateFusion``): the camera's gate reads the exposure and
# sharpness of the frame pair (``OdomImageQuality``: dark, overexposed,
# blurred frames), the LiDAR's the registration's quality (the conditioning
# of its Hessian: open road, long walls; inliers, cost;
# ``OdomScanRegistration(quality=True)``), the IMU passes where it is
# present. One weight per sensor and frame, written beside the
# trajectories (``XX_gates.txt``, plotted by
# tools/analysis_tools/plot_odom_gates.py). A pair whose registration
# failed keeps the motion the chain went on from as its prior
# (``failed='predict'``: the last converged pair's translation, the pair's
# gyro rotation) instead of a pose regressed from the features.
# Ablation: --cfg-options model.encoders.visual=None (LiDAR + IMU; the
# camera's gate goes with it).
_base_ = './trimodal-odom_light-pointnet-gru-icp-remap_1xb2-3e_kitti-hard.py'

# the base pipelines with the registration's quality (and the prediction
# for a failed pair) and, before the IMU's normalisation (after the
# photometric augmentation), the images' quality
registration_options = dict(
    OdomScanRegistration=dict(quality=True, failed='predict'))
train_pipeline, test_pipeline = ([
    s for step in pipeline
    for s in ([dict(type='OdomImageQuality')] if step['type'] ==
              'NormalizeOdomIMU' else []) +
    [dict(step, **registration_options.get(step['type'], {}))]
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# The residual head's corrections are shrunk towards the prior (an L1
# penalty): a correction the features cannot justify is not applied.
model = dict(
    fusion=dict(
        _delete_=True,
        type='QualityGateFusion',
        cue_channels=dict(visual=10, point=6),
        modality_dropout=0.1,
        dropout=0.1),
    pose_head=dict(residual_penalty=0.002))

# Each gate's MLP reads a few cues and starts at a constant (zero last
# layer): at the encoders' lr (1e-4) it barely leaves its start in 3
# epochs, so the gates learn 30 times faster.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'fusion.gates': dict(lr_mult=30.0)}))
