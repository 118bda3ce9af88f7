# Hard-sample ablation: camera only (no LiDAR, hence no registration prior):
# the camera + IMU ablation (its data, schedule and train pipeline without
# the yaw rotation) without the IMU encoder.
_base_ = './trimodal-odom_camera-imu_1xb2-3e_kitti-hard.py'
model = _base_.ablations.camera_only
