# Self-supervised fine-tuning on sequences without ground truth (the hard
# sample's 11-13, standing for KITTI 11-21): the model trained on 00-07
# (``trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py``) learns from
# the photometric reprojection error of its predicted motion alone (each
# scan warped between the two images, ``PhotometricReprojectionLoss``);
# validated on 09 and 10 as before.
#   python tools/train.py <this config>
_base_ = ['./trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py']

model = dict(
    self_supervised_loss=dict(
        type='PhotometricReprojectionLoss', loss_weight=1.0))
# The yaw augmentation drops the camera (no photometric term for those
# samples): left out here.
unlabelled_pipeline = [
    step for step in _base_.train_pipeline
    if step['type'] != 'OdomGlobalYawRotation'
]
train_dataloader = dict(
    dataset=dict(
        sequences='11,12,13',
        allow_unlabelled=True,
        pipeline=unlabelled_pipeline))
trained = 'work_dirs/trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard/'
load_from = trained + 'epoch_3.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-5))
train_cfg = dict(max_epochs=1)
