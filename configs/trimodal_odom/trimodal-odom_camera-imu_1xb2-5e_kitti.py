# Ablation: camera + IMU (soft gated fusion, no point-cloud gate).
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = _base_.ablations.camera_imu
