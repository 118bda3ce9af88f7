# Fine-tuning with the photometric loss on the unlabelled 11-13 mixed with
# the supervised pairs of 00-07 (one epoch over both): the pose head's loss
# on the labelled samples of each batch, the photometric loss on all.
# Starts from trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py as
#   trimodal-odom_light-pointnet-gru_photometric-ft_1xb2-1e_kitti-hard.py
# (the photometric loss alone) does, to compare the two.
_base_ = [
    './trimodal-odom_light-pointnet-gru_photometric-ft_1xb2-1e_kitti-hard.py'
]

train_dataloader = dict(
    dataset=dict(sequences=_base_.train_sequences + ',11,12,13'))
