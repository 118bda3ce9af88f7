"""The swept LiDAR of the hard presets, against closed-form scans of a
static wall seen from a moving car."""
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.testing.swept_lidar import (
    SensorTrajectory, SweptLidar)
from projects.trimodal_odom.trimodal_odom.utils.deskew import (
    deskew_points, point_time_offsets)
from projects.trimodal_odom.trimodal_odom.utils.se3 import make_pose, so3_exp

WALL = 15.0  # the wall is the plane x = WALL of the world


class WallScene:
    """A reflecting plane ``x = WALL``: the scene interface of
    :meth:`SweptLidar.scan` (origins, directions, range, times)."""

    def cast(self, origins, dirs, max_range, times):
        with np.errstate(divide='ignore'):
            t = (WALL - origins[:, 0]) / dirs[:, 0]
        hit = (dirs[:, 0] > 0) & (t < max_range)
        return dict(
            t=np.where(hit, t, np.inf),
            hit=hit,
            reflect=np.full(len(t), 0.5),
            mover=np.full(len(t), -1))


def _motion(speed, yaw_rate):
    """World poses (K, 4, 4) of a sensor at the origin at t = 0, driving
    along x at ``speed`` (m/s) and turning at ``yaw_rate`` (rad/s)."""

    def pose(t):
        t = np.atleast_1d(t)
        rot = so3_exp(np.stack([0 * t, 0 * t, yaw_rate * t], -1))
        pos = np.stack([speed * t, 0 * t, 0 * t], -1)
        return make_pose(rot, pos)

    return pose


def _scan(speed, yaw_rate, sweep_time=0.1):
    lidar = SweptLidar(
        beams=8,
        azimuths=720,
        sweep_time=sweep_time,
        range_noise=0.0,
        dropout=0.0,
        far_dropout=0.0)
    return lidar.scan(WallScene(), _motion(speed, yaw_rate), 0.0,
                      np.random.default_rng(0))


@pytest.mark.parametrize('speed', [10.0, 25.0])
def test_wall_bent_by_the_speed(speed):
    """Driving towards the wall at ``v``, the point of azimuth ``phi`` is
    taken at ``tau = -T phi / 2 pi`` from ``v tau`` nearer: the wall is
    bent to ``x = D + v T phi / 2 pi``, ``v T / 4`` between +-45 deg."""
    scan = _scan(speed, 0.0)
    xyz = scan['points'][:, :3].astype(np.float64)
    phi = np.arctan2(xyz[:, 1], xyz[:, 0])
    np.testing.assert_allclose(
        scan['time'], point_time_offsets(xyz), atol=1e-6)
    np.testing.assert_allclose(
        xyz[:, 0], WALL + speed * 0.1 * phi / (2 * np.pi), atol=1e-4)
    left = xyz[np.abs(phi - np.pi / 4) < 0.01, 0].mean()
    right = xyz[np.abs(phi + np.pi / 4) < 0.01, 0].mean()
    assert left - right == pytest.approx(speed * 0.1 / 4, abs=0.01)
    # the true motion over a frame (0.1036 s) takes the bend out
    dt = 0.1036
    straight = deskew_points(xyz, _motion(speed, 0.0)(dt)[0], dt)
    np.testing.assert_allclose(straight[:, 0], WALL, atol=1e-6)


def test_wall_bent_by_the_turn():
    """Turning at ``w`` without moving, the ray of azimuth ``phi`` leaves
    at world angle ``phi + w tau``: its range is
    ``D / cos(phi + w tau)``."""
    w = 0.5  # rad/s
    scan = _scan(0.0, w)
    xyz = scan['points'][:, :3].astype(np.float64)
    phi = np.arctan2(xyz[:, 1], xyz[:, 0])
    tau = -0.1 * phi / (2 * np.pi)
    horiz = np.hypot(xyz[:, 0], xyz[:, 1])
    np.testing.assert_allclose(horiz, WALL / np.cos(phi + w * tau), rtol=1e-5)
    dt = 0.1
    straight = deskew_points(xyz, _motion(0.0, w)(dt)[0], dt)
    np.testing.assert_allclose(straight[:, 0], WALL, atol=1e-5)


def test_standing_sensor_and_time_order():
    """No motion, no skew; and a turn starts behind the car, passes the
    left side, faces forward at mid-sweep and ends behind it."""
    scan = _scan(0.0, 0.0)
    np.testing.assert_allclose(scan['points'][:, 0], WALL, atol=1e-4)
    phi, tau = SweptLidar(azimuths=8).columns(np.random.default_rng(1))
    assert np.all(np.diff(tau) > 0) and np.all(np.diff(phi) < 0)
    assert phi[0] <= np.pi and phi[-1] >= -np.pi
    assert -0.05 <= tau[0] < tau[-1] <= 0.05
    left = np.argmin(np.abs(phi - np.pi / 2))
    assert tau[left] == pytest.approx(-0.025, abs=0.1 / 8)


def test_sensor_trajectory_passes_through_the_key_poses():
    times = np.array([0.0, 0.1, 0.2, 0.3])
    poses = _motion(10.0, 0.3)(times)
    traj = SensorTrajectory(times, poses)
    np.testing.assert_allclose(traj(times), poses, atol=1e-12)
    mid = traj(np.array([0.15]))[0]
    np.testing.assert_allclose(mid, _motion(10.0, 0.3)(0.15)[0], atol=1e-5)


def test_bad_settings():
    with pytest.raises(ValueError, match='beams'):
        SweptLidar(beams=65)
    with pytest.raises(ValueError, match='dropout'):
        SweptLidar(dropout=1.0)
