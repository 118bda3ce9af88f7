"""OXTS (GPS/IMU) packets simulated from a pose trajectory (used only by
:mod:`.kitti_sample`).

The IMU poses at the frame times are interpolated with C2 splines (cubic
on positions, :class:`scipy.spatial.transform.RotationSpline` on
rotations) and differentiated analytically.  Positions are written as
latitude / longitude / altitude through the inverse of the KITTI devkit's
Mercator projection, so that the devkit's ``convertOxtsToPose`` gives the
trajectory back.
"""
from typing import Dict, Optional, Tuple

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline

from ..converters.oxts_io import EARTH_RADIUS, OXTS_FIELDS

GRAVITY = 9.81
# pos_accuracy, vel_accuracy, navstat, numsats, posmode, velmode, orimode
_STATUS = (0.05, 0.02, 4, 10, 4, 4, 0)


def enu_from_world(heading: float) -> np.ndarray:
    """Rotation (3, 3) from the camera-0 world (x right, y down, z
    forward) to east-north-up, the forward axis pointing ``heading``
    radians counter-clockwise from east."""
    c, s = np.cos(heading), np.sin(heading)
    return np.array([[s, 0.0, c], [-c, 0.0, s], [0.0, -1.0, 0.0]])


def _rz_t(yaw: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Apply ``Rz(yaw)^T`` to vectors (N, 3): ENU to the level frame."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack(
        [c * v[:, 0] + s * v[:, 1], -s * v[:, 0] + c * v[:, 1], v[:, 2]], -1)


def simulate_oxts(frame_times: np.ndarray,
                  T_world_imu: np.ndarray,
                  query_times: np.ndarray,
                  heading: float,
                  lla0: Tuple[float, float, float],
                  bias: Dict[str, np.ndarray],
                  noise: Dict[str, float],
                  rng: np.random.Generator,
                  measured: Optional[Tuple[np.ndarray,
                                           np.ndarray]] = None) -> np.ndarray:
    """OXTS packets of an IMU moving along interpolated poses.

    Args:
        frame_times (np.ndarray): Times of the key poses (N,), seconds.
        T_world_imu (np.ndarray): IMU poses in the camera-0 world
            (N, 4, 4); gravity points along the world's +y.
        query_times (np.ndarray): Packet times (K,) within
            ``frame_times``' span.
        heading (float): Heading of the world's z axis, radians
            counter-clockwise from east.
        lla0 (tuple[float]): Latitude, longitude (degrees) and altitude
            (m) of the IMU at ``frame_times[0]``.
        bias (dict): Constant ``acc`` (m/s^2) and ``gyro`` (rad/s) biases
            in the IMU body frame, each (3,).
        noise (dict): White-noise standard deviations ``acc`` and
            ``gyro`` per packet.
        rng (np.random.Generator): Source of the noise.
        measured (tuple[np.ndarray, np.ndarray], optional): Recorded
            specific forces and angular rates (K, 3) each, IMU body frame,
            at ``query_times``: written instead of the simulated ones (and
            without ``bias`` and ``noise``). Defaults to None.

    Returns:
        np.ndarray: Packets of shape (K, 30).
    """
    pos = CubicSpline(frame_times, T_world_imu[:, :3, 3])
    rot = RotationSpline(frame_times,
                         Rotation.from_matrix(T_world_imu[:, :3, :3]))
    R_ew = enu_from_world(heading)
    p_e = (pos(query_times) - T_world_imu[0, :3, 3]) @ R_ew.T
    v_e = pos(query_times, 1) @ R_ew.T
    a_e = pos(query_times, 2) @ R_ew.T
    R_eb = R_ew @ rot(query_times).as_matrix()
    w_b = rot(query_times, 1)  # body-frame angular rate
    f_e = a_e + np.array([0.0, 0.0, GRAVITY])
    f_b = np.einsum('kji,kj->ki', R_eb, f_e)
    k = len(query_times)
    f_b = f_b + bias['acc'] + noise['acc'] * rng.standard_normal((k, 3))
    w_b = w_b + bias['gyro'] + noise['gyro'] * rng.standard_normal((k, 3))
    if measured is not None:
        f_b, w_b = (np.asarray(v, dtype=np.float64) for v in measured)

    yaw = np.arctan2(R_eb[:, 1, 0], R_eb[:, 0, 0])
    pitch = np.arctan2(-R_eb[:, 2, 0], np.hypot(R_eb[:, 0, 0], R_eb[:, 1, 0]))
    roll = np.arctan2(R_eb[:, 2, 1], R_eb[:, 2, 2])
    lat0, lon0, alt0 = np.deg2rad(lla0[0]), np.deg2rad(lla0[1]), lla0[2]
    scale = np.cos(lat0) * EARTH_RADIUS
    mx = scale * lon0 + p_e[:, 0]
    my = scale * np.log(np.tan(np.pi / 4 + lat0 / 2)) + p_e[:, 1]

    out = np.zeros((k, len(OXTS_FIELDS)))
    out[:, 0] = np.rad2deg(2 * np.arctan(np.exp(my / scale)) - np.pi / 2)
    out[:, 1] = np.rad2deg(mx / scale)
    out[:, 2] = alt0 + p_e[:, 2]
    out[:, 3:6] = np.stack([roll, pitch, yaw], -1)
    out[:, 6], out[:, 7] = v_e[:, 1], v_e[:, 0]
    out[:, 8:11] = _rz_t(yaw, v_e)
    out[:, 11:14] = f_b
    out[:, 14:17] = _rz_t(yaw, np.einsum('kij,kj->ki', R_eb, f_b))
    out[:, 17:20] = w_b
    out[:, 20:23] = _rz_t(yaw, np.einsum('kij,kj->ki', R_eb, w_b))
    out[:, 23:] = _STATUS
    return out
