# The hard-sample model with the registration prior
# (``trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-hard.py``) whose
# point gate also sees how far the registration can be trusted: the
# registration-quality vector of each pair (converged, inlier ratio, mean
# cost, conditioning of the Hessian's translation and rotation blocks, its
# weakest translation direction; ``registration_quality``), read from the
# same prior cache (built as the base config says). Without it the gate
# stays at about 0.5 on every frame, failure stretches included
# (docs/benchmarks.md).
_base_ = './trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-hard.py'

train_pipeline, test_pipeline = ([
    dict(step, quality=True)
    if step['type'] == 'OdomScanRegistration' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# One gate for the whole point feature: what the gate plots show of the
# base model's vector gate is the mean of its sigmoids over the point
# feature's channels, which says little about the LiDAR's weight as a
# whole. The control without the quality vector: the -icp config with
# --cfg-options model.fusion.gate=scalar.
model = dict(fusion=dict(gate='scalar', quality_channels=6))
