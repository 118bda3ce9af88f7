import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.utils.deskew import (
    deskew_points, point_time_offsets)
from projects.trimodal_odom.trimodal_odom.utils.se3 import (make_pose, se3_exp,
                                                            se3_log, so3_exp)


def test_point_times_follow_the_azimuth():
    # behind (start), left, front (mid-sweep), right, behind (end)
    points = np.array([[-1, 1e-9, 0], [0, 1, 0], [1, 0, 0], [0, -1, 0],
                       [-1, -1e-9, 0]])
    np.testing.assert_allclose(
        point_time_offsets(points), [-0.05, -0.025, 0.0, 0.025, 0.05],
        atol=1e-9)


def test_se3_exp_log():
    rng = np.random.default_rng(0)
    xi = rng.normal(size=(20, 6)) * [1, 1, 1, 0.5, 0.5, 0.5]
    np.testing.assert_allclose(se3_log(se3_exp(xi)), xi, atol=1e-9)
    # a quarter turn driving 1 m along an arc ends on the arc
    T = se3_exp(np.array([1.0, 0, 0, 0, 0, np.pi / 2]))
    np.testing.assert_allclose(T[:3, 3], [2 / np.pi, 2 / np.pi, 0], atol=1e-12)
    np.testing.assert_allclose(se3_exp(np.zeros(6)), np.eye(4))


def test_deskew_is_the_motion_at_each_point_time():
    motion = make_pose(so3_exp([0.0, 0.0, 0.02]), [1.0, 0.05, 0.0])
    points = np.array([[0.0, 10.0, 0.0, 0.3], [10.0, 0.0, 1.0, 0.7]])
    out = deskew_points(points, motion, dt=0.1)
    # the left point was taken a quarter sweep (0.025 s) before mid-sweep
    T = se3_exp(-0.25 * se3_log(motion))
    np.testing.assert_allclose(out[0, :3],
                               T[:3, :3] @ points[0, :3] + T[:3, 3])
    np.testing.assert_allclose(out[1], points[1])  # in front: unchanged
    assert out[0, 3] == 0.3
    with pytest.raises(ValueError, match='dt'):
        deskew_points(points, motion, dt=0.0)
    with pytest.raises(ValueError, match='motion'):
        deskew_points(points, np.full((4, 4), np.nan), dt=0.1)
