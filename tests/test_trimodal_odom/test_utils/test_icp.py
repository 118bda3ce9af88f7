"""Point-to-plane ICP recovers known motions and checks its inputs."""
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.utils.icp import (estimate_normals,
                                                            point_to_plane_icp)
from projects.trimodal_odom.trimodal_odom.utils.se3 import (make_pose,
                                                            rotation_angle,
                                                            se3_inverse,
                                                            so3_exp)


def street(rng: np.random.Generator, n: int = 6000) -> np.ndarray:
    """Points (n, 3) on a ground plane, two walls and a few boxes: a scene
    that constrains all six degrees of freedom."""
    parts = []
    k = n // 4
    g = rng.uniform([-30, -30], [30, 30], (k, 2))
    parts.append(np.c_[g, np.full(k, -1.7) + 0.05 * np.sin(g[:, 0] / 3)])
    for y in (-8.0, 8.0):
        w = rng.uniform([-30, -1.7], [30, 3.0], (k // 2, 2))
        parts.append(np.c_[w[:, 0], np.full(k // 2, y), w[:, 1]])
    for cx, cy in ((5.0, 4.0), (-7.0, -3.0), (14.0, -5.0)):
        f = rng.uniform([-1, -1.7], [1, 1.0], (k // 3, 2))
        parts.append(np.c_[np.full(k // 3, cx), cy + f[:, 0], f[:, 1]])
        parts.append(np.c_[cx + f[:, 0], np.full(k // 3, cy + 1), f[:, 1]])
    return np.concatenate(parts)


def test_recovers_a_driving_motion():
    rng = np.random.default_rng(0)
    world = street(rng)
    # the scan at t+1 sees the scene after 1.1 m forward and 3 deg of yaw
    T_true = make_pose(
        so3_exp(np.array([0.002, -0.003, 0.052])), np.array([1.1, 0.05, 0.02]))
    target = world[::2] + 0.005 * rng.standard_normal(world[::2].shape)
    source = world[1::2] @ se3_inverse(T_true)[:3, :3].T + \
        se3_inverse(T_true)[:3, 3]
    T, info = point_to_plane_icp(source, target)
    assert info['converged'] and info['iterations'] == 30
    assert info['num_correspondences'] > len(source) // 4
    assert info['rmse'] < 0.02
    err = se3_inverse(T_true) @ T
    assert np.linalg.norm(err[:3, 3]) < 0.01
    assert np.degrees(rotation_angle(err[:3, :3])) < 0.05


def test_too_few_correspondences_is_reported_not_raised():
    rng = np.random.default_rng(1)
    target = street(rng, 800)
    source = target + np.array([500.0, 0.0, 0.0])  # beyond every gate
    T, info = point_to_plane_icp(source, target, max_iters=5)
    assert not info['converged']
    assert info['iterations'] == 1 and info['num_correspondences'] == 0
    np.testing.assert_array_equal(T, np.eye(4))


def test_normals_of_a_plane():
    rng = np.random.default_rng(2)
    pts = np.c_[rng.uniform(-5, 5, (500, 2)), np.zeros(500)]
    from scipy.spatial import cKDTree
    normals = estimate_normals(pts, cKDTree(pts), 8)
    np.testing.assert_allclose(np.abs(normals[:, 2]), 1.0, atol=1e-6)


@pytest.mark.parametrize('source, target, init, match', [
    (np.zeros((10, 2)), np.zeros((20, 3)), None, r'source must be \(N, 3\)'),
    (np.full((10, 3), np.nan), np.zeros((20, 3)), None, 'source contains'),
    (np.zeros((10, 3)), np.zeros((5, 3)), None, 'target has 5 points'),
    (np.zeros((10, 3)), np.zeros((20, 3)), np.eye(3), 'init must be'),
])
def test_bad_inputs(source, target, init, match):
    with pytest.raises(ValueError, match=match):
        point_to_plane_icp(source, target, init=init)
