"""Rotation of a body over a time window from its gyro samples."""
from typing import Optional

import numpy as np

from .se3 import integrate_gyro


def integrate_gyro_window(times: np.ndarray, gyro: np.ndarray,
                          t_end: float) -> np.ndarray:
    """Rotation from the first sample time to ``t_end``: the mean rate of
    each pair of samples held between them, the last rate held to ``t_end``
    (:func:`~.se3.integrate_gyro`).

    Args:
        times (np.ndarray): Sample times (L,), s, increasing.
        gyro (np.ndarray): Body angular rates (L, 3), rad/s.
        t_end (float): End of the window (s), not before ``times[-1]``.

    Returns:
        np.ndarray: ``R`` (3, 3), the body frame at ``t_end`` in the body
        frame at ``times[0]``.

    Raises:
        ValueError: Empty or mismatched inputs, or ``t_end`` before the
            last sample.
    """
    times = np.asarray(times, dtype=np.float64)
    gyro = np.asarray(gyro, dtype=np.float64)
    if len(times) == 0 or gyro.shape != (len(times), 3):
        raise ValueError(f'need L >= 1 times and (L, 3) rates, got '
                         f'{times.shape} and {gyro.shape}')
    if t_end < times[-1]:
        raise ValueError(f'window end {t_end} is before the last sample '
                         f'{times[-1]}')
    rates = np.concatenate([0.5 * (gyro[:-1] + gyro[1:]), gyro[-1:]])
    return integrate_gyro(rates, np.diff(np.append(times, t_end)))


def lidar_to_imu_frame(imu_frame: str, Tr: np.ndarray,
                       T_velo_imu: Optional[np.ndarray]) -> np.ndarray:
    """Rotation ``C`` (3, 3) taking vectors of the LiDAR frame into the
    frame of the IMU samples of the infos (``v_imu = C @ v_lidar``); a
    rotation ``R`` of the LiDAR is ``C @ R @ C.T`` there.

    Args:
        imu_frame (str): ``'lidar'``, ``'camera'`` or ``'imu'`` (the
            ``imu_frame`` of the infos).
        Tr (np.ndarray): LiDAR -> camera 0 (4, 4).
        T_velo_imu (np.ndarray, optional): IMU -> LiDAR (4, 4); needed for
            ``'imu'``.

    Returns:
        np.ndarray: ``C`` (3, 3).
    """
    if imu_frame == 'lidar':
        return np.eye(3)
    if imu_frame == 'camera':
        return np.asarray(Tr)[:3, :3]
    if imu_frame == 'imu':
        if T_velo_imu is None:
            raise ValueError("imu_frame 'imu' needs T_velo_imu")
        return np.asarray(T_velo_imu)[:3, :3].T
    raise ValueError(f'unknown imu_frame {imu_frame!r}')


def gyro_lidar_rotation(imu: np.ndarray, t_end: float, imu_frame: str,
                        Tr: np.ndarray,
                        T_velo_imu: Optional[np.ndarray]) -> np.ndarray:
    """Rotation of the LiDAR over an IMU window, from its gyro.

    Args:
        imu (np.ndarray): Raw samples (L, 7) ``[time, acc xyz, gyro xyz]``
            in ``imu_frame``.
        t_end (float): End of the window (s), e.g. the time of the later
            frame of a pair.
        imu_frame, Tr, T_velo_imu: As :func:`lidar_to_imu_frame`.

    Returns:
        np.ndarray: ``R`` (3, 3), the LiDAR at ``t_end`` in the LiDAR at
        the first sample.
    """
    C = lidar_to_imu_frame(imu_frame, Tr, T_velo_imu)
    return C.T @ integrate_gyro_window(imu[:, 0], imu[:, 4:7], t_end) @ C
