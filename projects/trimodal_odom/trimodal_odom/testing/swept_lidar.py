"""A rotating multi-beam LiDAR swept along the trajectory, like KITTI's
Velodyne HDL-64E (used only by :mod:`.hard_sample`).

One revolution takes ``sweep_time``; every column of beams fires at its
own time and from the sensor pose of that time, so the scan of a moving
car is skewed exactly as a real one (the convention of
:mod:`..utils.deskew`: clockwise, starting behind the car, facing forward
at mid-sweep, the time of the frame's pose). Ranges get Gaussian noise;
returns drop out at random, more often far away and from dark surfaces.
"""
from typing import Callable, Dict, Sequence

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline

from ..utils.deskew import SWEEP_TIME
from ..utils.se3 import make_pose

#: Elevations (deg) of the HDL-64E: an upper block of 32 lasers from +2.0
#: to -8.33 deg (1/3 deg apart) and a lower block of 32 from -8.83 to
#: -24.33 deg (1/2 deg apart).
HDL64_ELEVATIONS = np.concatenate(
    [np.linspace(2.0, -8.33, 32),
     np.linspace(-8.83, -24.33, 32)])


class SensorTrajectory:
    """Continuous poses through key poses: C2 splines (cubic on positions,
    :class:`scipy.spatial.transform.RotationSpline` on rotations), as the
    OXTS simulator of :mod:`.synthetic_imu` interpolates them; extrapolated
    by the splines' end pieces for a few hundredths of a second.

    Args:
        times (np.ndarray): Times of the key poses (N,), increasing.
        poses (np.ndarray): Key poses (N, 4, 4).
    """

    def __init__(self, times: np.ndarray, poses: np.ndarray) -> None:
        self._pos = CubicSpline(times, poses[:, :3, 3])
        self._rot = RotationSpline(times,
                                   Rotation.from_matrix(poses[:, :3, :3]))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Poses (K, 4, 4) at times ``t`` (K,)."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        return make_pose(self._rot(t).as_matrix(), self._pos(t))


class SweptLidar:
    """A spinning LiDAR: ``beams`` lasers, ``azimuths`` columns a turn.

    Args:
        beams (int): Lasers, taken evenly from :data:`HDL64_ELEVATIONS`.
            Defaults to 64.
        azimuths (int): Columns of one revolution. Defaults to 1024.
        sweep_time (float): Duration of one revolution (s); 0 gives the
            scans of a sensor that does not move while it turns.
            Defaults to 0.1.
        max_range (float): Farther surfaces give no return (m).
            Defaults to 80.
        range_noise (float): Standard deviation (m) of the range noise.
            Defaults to 0.02 (the HDL-64E's accuracy, < 2 cm).
        dropout (float): Probability that any return is lost.
            Defaults to 0.02.
        far_dropout (float): Further loss probability at ``max_range`` of a
            surface of reflectance 0, falling with the square of the range
            and with the reflectance. Defaults to 0.5.
    """

    def __init__(self,
                 beams: int = 64,
                 azimuths: int = 1024,
                 sweep_time: float = SWEEP_TIME,
                 max_range: float = 80.0,
                 range_noise: float = 0.02,
                 dropout: float = 0.02,
                 far_dropout: float = 0.5) -> None:
        if not 1 <= beams <= len(HDL64_ELEVATIONS) or azimuths < 8:
            raise ValueError(f'beams must be 1..64 and azimuths >= 8, got '
                             f'{beams} and {azimuths}')
        if sweep_time < 0 or range_noise < 0 or max_range <= 0:
            raise ValueError('sweep_time and range_noise must be >= 0 and '
                             f'max_range > 0, got {sweep_time}, '
                             f'{range_noise}, {max_range}')
        for name, p in (('dropout', dropout), ('far_dropout', far_dropout)):
            if not 0 <= p < 1:
                raise ValueError(f'{name} must lie in [0, 1), got {p}')
        pick = np.round(np.linspace(0,
                                    len(HDL64_ELEVATIONS) - 1,
                                    beams)).astype(int)
        self.elevations = np.deg2rad(HDL64_ELEVATIONS[pick])
        self.azimuths = int(azimuths)
        self.sweep_time = float(sweep_time)
        self.max_range = float(max_range)
        self.range_noise = float(range_noise)
        self.dropout = float(dropout)
        self.far_dropout = float(far_dropout)

    def columns(self, rng: np.random.Generator) -> Sequence[np.ndarray]:
        """Azimuths (A,) of the columns of one revolution, in firing order
        (from +pi down to -pi, with a random offset below one step), and
        their time offsets (A,) from mid-sweep."""
        step = 2 * np.pi / self.azimuths
        phi = np.pi - step * (np.arange(self.azimuths) + rng.uniform())
        return phi, -self.sweep_time * phi / (2 * np.pi)

    def scan(self, scene, sensor_pose: Callable[[np.ndarray],
                                                np.ndarray], t_frame: float,
             rng: np.random.Generator) -> Dict[str, np.ndarray]:
        """One revolution around mid-sweep time ``t_frame``.

        Args:
            scene: Casts rays: ``scene.cast(origins (N, 3), dirs (N, 3),
                max_range, times (N,))`` returning ``t``, ``hit`` and
                ``reflect`` (and ``mover``), as
                :meth:`~.synthetic_scene.SyntheticScene.cast`.
            sensor_pose (Callable): World poses (K, 4, 4) of the sensor at
                times (K,), e.g. a :class:`SensorTrajectory`.
            t_frame (float): Time of the frame (mid-sweep), s.
            rng (np.random.Generator): Source of the azimuth offset, noise
                and dropouts.

        Returns:
            dict: ``points`` float32 (N, 4) x, y, z in the sensor frame at
            each point's own time and reflectance; ``time`` (N,) offsets
            from mid-sweep (s); ``mover`` (N,) index of the moving box hit
            (-1: static).
        """
        phi, tau = self.columns(rng)
        elev = self.elevations[:, None]
        local = np.stack([
            np.cos(elev) * np.cos(phi),
            np.cos(elev) * np.sin(phi),
            np.broadcast_to(np.sin(elev), (len(elev), len(phi)))
        ], -1).reshape(-1, 3)
        col = np.tile(np.arange(len(phi)), len(elev))
        T = sensor_pose(t_frame + tau)  # (A, 4, 4)
        dirs = np.einsum('nij,nj->ni', T[col, :3, :3], local)
        hit = scene.cast(T[col, :3, 3], dirs, self.max_range,
                         t_frame + tau[col])
        keep = hit['hit']
        r = hit['t'][keep]
        reflect = np.clip(hit['reflect'][keep], 0.0, 1.0)
        lost = self.dropout + self.far_dropout * (r / self.max_range)**2 * (
            1.0 - reflect)
        alive = rng.uniform(size=len(r)) >= lost
        r = r + self.range_noise * rng.standard_normal(len(r))
        idx = np.flatnonzero(keep)[alive]
        xyz = r[alive, None] * local[idx]
        points = np.concatenate([xyz, reflect[alive, None]], 1)
        return dict(
            points=points.astype(np.float32),
            time=tau[col[idx]],
            mover=hit['mover'][idx])
