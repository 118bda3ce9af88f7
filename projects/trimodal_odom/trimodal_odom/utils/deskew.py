"""Motion compensation (deskewing) of rotating-LiDAR scans.

A KITTI HDL-64E scan is swept over one revolution while the car moves, and
its ``.bin`` file keeps no time per point. The sensor turns clockwise seen
from above and is triggered (the camera with it) when it faces forward:
a scan starts and ends behind the car (azimuth +-180 deg, measured
counter-clockwise from the forward x axis), passes the left side first and
faces forward at mid-sweep, the time of the frame's pose. The time of a
point is therefore read from its azimuth ``phi = atan2(y, x)``::

    tau = -sweep_time * phi / (2 pi),   in [-sweep_time / 2, sweep_time / 2]

(KISS-ICP's KITTI loader uses the same rule, as ``0.5 * (-phi / pi + 1)``
of the sweep.) Under a constant body velocity, the sensor pose at ``tau``
in the frame of the mid-sweep is ``exp(tau / dt * log(T))`` for the motion
``T`` of the sensor over ``dt`` seconds (:func:`~.se3.se3_exp`); deskewing
maps every point through it, into the sensor frame at mid-sweep.
"""
from typing import Optional

import numpy as np

from .se3 import se3_exp, se3_log

#: Duration (s) of one revolution of the KITTI Velodyne HDL-64E (10 Hz).
SWEEP_TIME = 0.1


def point_time_offsets(points: np.ndarray,
                       sweep_time: float = SWEEP_TIME) -> np.ndarray:
    """Time of each point relative to mid-sweep, from its azimuth.

    Args:
        points (np.ndarray): Points (N, 3+) in the sensor frame (x
            forward, y left, z up).
        sweep_time (float): Duration of one revolution (s).
            Defaults to 0.1.

    Returns:
        np.ndarray: Offsets (N,) in seconds, ``-sweep_time / 2`` behind the
        car at the start of the sweep, 0 in front, ``+sweep_time / 2``
        behind at its end.
    """
    points = np.asarray(points)
    return -sweep_time * np.arctan2(points[:, 1], points[:, 0]) / (2 * np.pi)


def deskew_points(points: np.ndarray,
                  motion: np.ndarray,
                  dt: float,
                  sweep_time: float = SWEEP_TIME,
                  times: Optional[np.ndarray] = None) -> np.ndarray:
    """Move the points of a swept scan into the sensor frame at mid-sweep.

    Args:
        points (np.ndarray): Points (N, C >= 3) in the sensor frame at their
            own times; columns after the third are kept.
        motion (np.ndarray): Motion (4, 4) of the sensor over ``dt``: the
            pose of the sensor ``dt`` seconds later in its current frame,
            e.g. the registration of the next scan onto this one.
        dt (float): Duration (s) of ``motion``, e.g. the time between the
            two frames of a pair.
        sweep_time (float): Duration of one revolution (s).
            Defaults to 0.1.
        times (np.ndarray, optional): Offsets (N,) of the points from
            mid-sweep (s). Defaults to :func:`point_time_offsets`.

    Returns:
        np.ndarray: Deskewed points (N, C), float of the input's type.

    Raises:
        ValueError: ``dt`` is not positive or ``motion`` not a finite
            (4, 4) transform.
    """
    motion = np.asarray(motion, dtype=np.float64)
    if motion.shape != (4, 4) or not np.isfinite(motion).all():
        raise ValueError(f'motion must be a finite (4, 4) transform, got '
                         f'{motion}')
    if not dt > 0:
        raise ValueError(f'dt must be positive, got {dt}')
    points = np.asarray(points)
    if times is None:
        times = point_time_offsets(points, sweep_time)
    T = se3_exp(np.asarray(times)[:, None] / dt * se3_log(motion))
    xyz = points[:, :3].astype(np.float64)
    out = points.copy()
    out[:, :3] = np.einsum('nij,nj->ni', T[:, :3, :3], xyz) + T[:, :3, 3]
    return out
