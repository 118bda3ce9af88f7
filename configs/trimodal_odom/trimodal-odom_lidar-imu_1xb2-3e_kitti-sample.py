# Demo ablation: LiDAR + IMU on the generated sample.
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py'
model = _base_.ablations.lidar_imu
