# Ablation: soft (feature-wise) gating of all features instead of the
# point-cloud gate.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = _base_.ablations.soft_gate
