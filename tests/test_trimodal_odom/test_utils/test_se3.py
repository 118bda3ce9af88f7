import os.path as osp

import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.utils import (compose_relative,
                                                        integrate_gyro,
                                                        load_poses, make_pose,
                                                        relative_pose,
                                                        rotation_angle,
                                                        se3_inverse, skew,
                                                        so3_exp, so3_log)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')


def _axes(n, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _assert_rotations(R):
    np.testing.assert_allclose(
        R @ np.swapaxes(R, -1, -2),
        np.broadcast_to(np.eye(3), R.shape),
        atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)


@pytest.mark.parametrize('angle', [0.0, 1e-12, 1e-7, 1e-5, 0.3, 2.0, 3.1])
def test_exp_log_round_trip(angle):
    w = _axes(20) * angle
    R = so3_exp(w)
    _assert_rotations(R)
    np.testing.assert_allclose(so3_log(R), w, atol=1e-12)
    np.testing.assert_allclose(rotation_angle(R), angle, atol=2e-8)


def test_exp_matches_rodrigues_series():
    w = _axes(5, seed=1) * 0.7
    series = sum(
        np.linalg.matrix_power(skew(v), k) / np.prod(np.arange(1, k + 1))
        for v in w[:1] for k in range(30))
    np.testing.assert_allclose(so3_exp(w[0]), series, atol=1e-14)


@pytest.mark.parametrize('gap', [0.0, 1e-9, 1e-7, 1e-4])
def test_log_near_pi(gap):
    axes = _axes(20, seed=2)
    R = so3_exp(axes * (np.pi - gap))
    w = so3_log(R)
    np.testing.assert_allclose(
        np.linalg.norm(w, axis=1), np.pi - gap, atol=1e-7)
    # the axis is found up to sign only at exactly pi
    cos = np.abs(
        np.sum(w / np.linalg.norm(w, axis=1, keepdims=True) * axes, axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-7)
    np.testing.assert_allclose(so3_exp(w), R, atol=1e-7)


def test_skew_is_cross_product():
    a, b = np.random.default_rng(3).normal(size=(2, 4, 3))
    np.testing.assert_allclose(
        (skew(a) @ b[..., None])[..., 0], np.cross(a, b), atol=1e-14)


def test_inverse_and_relative_pose():
    rng = np.random.default_rng(4)
    T = make_pose(so3_exp(rng.normal(size=(6, 3))), rng.normal(size=(6, 3)))
    np.testing.assert_allclose(
        T @ se3_inverse(T), np.broadcast_to(np.eye(4), T.shape), atol=1e-12)
    rel = relative_pose(T[:-1], T[1:])
    np.testing.assert_allclose(T[:-1] @ rel, T[1:], atol=1e-12)
    np.testing.assert_allclose(rel, se3_inverse(T[:-1]) @ T[1:], atol=1e-12)


def test_compose_relative_recomposes_real_trajectory():
    poses = load_poses(osp.join(DATA, '00.txt'))
    rel = relative_pose(poses[:-1], poses[1:])
    again = compose_relative(poses[0], rel)
    assert again.shape == poses.shape
    assert np.abs(again - poses).max() < 1e-9


def test_integrate_gyro_composes_body_rates_in_order():
    w = np.array([0.0, 0.3, -0.1])
    R = integrate_gyro(np.tile(w, (10, 1)), 0.01)
    np.testing.assert_allclose(R, so3_exp(w * 0.1), atol=1e-12)
    np.testing.assert_allclose(
        integrate_gyro(np.zeros((0, 3)), 0.01), np.eye(3))
    # body-frame rates: the first sample's rotation is applied first
    # (leftmost); the two rotations do not commute
    rates = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    R = integrate_gyro(rates, [0.5, 0.25])
    np.testing.assert_allclose(
        R, so3_exp(rates[0] * 0.5) @ so3_exp(rates[1] * 0.25), atol=1e-12)
    assert not np.allclose(
        R, so3_exp(rates[1] * 0.25) @ so3_exp(rates[0] * 0.5), atol=1e-3)
