"""Gyro integration: the rotation of a constant rate, in any frame of the
infos, comes back as the LiDAR's."""
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.utils.imu_integration import (
    gyro_lidar_rotation, integrate_gyro_window, lidar_to_imu_frame)
from projects.trimodal_odom.trimodal_odom.utils.se3 import make_pose, so3_exp

TR = make_pose(
    np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]),
    np.array([0.0, -0.08, -0.27]))
T_VELO_IMU = make_pose(so3_exp(np.array([0.01, -0.02, 0.03])), np.zeros(3))


def test_constant_rate():
    times = np.arange(10) * 0.01
    rate = np.array([0.0, 0.0, 0.5])
    R = integrate_gyro_window(times, np.tile(rate, (10, 1)), 0.1)
    np.testing.assert_allclose(R, so3_exp(rate * 0.1), atol=1e-12)


@pytest.mark.parametrize('frame', ['lidar', 'camera', 'imu'])
def test_lidar_rotation_from_any_frame(frame):
    rate_lidar = np.array([0.02, -0.01, 0.4])  # mostly yaw
    C = lidar_to_imu_frame(frame, TR, T_VELO_IMU)
    times = np.arange(10) * 0.01
    imu = np.c_[times, np.zeros((10, 3)), np.tile(C @ rate_lidar, (10, 1))]
    R = gyro_lidar_rotation(imu, 0.1, frame, TR, T_VELO_IMU)
    np.testing.assert_allclose(R, so3_exp(rate_lidar * 0.1), atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match='before the last sample'):
        integrate_gyro_window(np.array([0.0, 0.1]), np.zeros((2, 3)), 0.05)
    with pytest.raises(ValueError, match='needs T_velo_imu'):
        lidar_to_imu_frame('imu', TR, None)
    with pytest.raises(ValueError, match='unknown imu_frame'):
        lidar_to_imu_frame('gps', TR, None)
