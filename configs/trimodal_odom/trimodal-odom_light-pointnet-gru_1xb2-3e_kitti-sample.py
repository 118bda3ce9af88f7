# Demo on the generated sample (a few hundred frames along real KITTI
# trajectories, runs on a laptop CPU in minutes):
#   python tools/misc/generate_kitti_sample.py data/kitti_sample \
#       --preset demo
#   python tools/dataset_converters/kitti_odom_converter.py \
#       data/kitti_sample
#   python tools/train.py <this config>
# Trains on sequence 00 (frames 0-299), validates on sequence 09 with the
# constant-velocity baseline beside the model.  The light CNN replaces
# ResNet-18 to keep CPU time short.
_base_ = [
    './_base_/models/trimodal_odom.py',
    './_base_/datasets/kitti_odom_sample.py', './_base_/schedules/adamw_5e.py',
    './_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=_base_.data_preprocessor,
    encoders=dict(
        visual=dict(
            backbone=dict(_delete_=True, type='LightConvNet'),
            feat_channels=256)))
train_cfg = dict(max_epochs=3)
