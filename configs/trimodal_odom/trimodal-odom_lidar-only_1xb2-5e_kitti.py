# Ablation: LiDAR only.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = _base_.ablations.lidar_only
