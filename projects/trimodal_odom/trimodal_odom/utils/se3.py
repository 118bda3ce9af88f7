"""Rigid-body (SE(3) / SO(3)) helpers on numpy arrays.

Conventions used across the odometry project:

* A pose ``T`` is a ``(4, 4)`` homogeneous matrix mapping points of its
  local frame into the reference frame (KITTI ``poses/XX.txt`` rows are the
  first three rows of ``T_world_cam0``).
* The relative pose of frame ``b`` seen from frame ``a`` is
  ``inv(T_a) @ T_b``.
* Rotations are parameterised as axis-angle vectors ``w`` (the SO(3) log,
  ``|w|`` in radians, right-hand rule).

Every function accepts a single transform or a batch ``(..., 4, 4)``.
"""
from typing import Sequence, Union

import numpy as np
from scipy.spatial.transform import Rotation


def se3_inverse(T: np.ndarray) -> np.ndarray:
    """Invert rigid transforms.

    Args:
        T (np.ndarray): Transforms of shape (..., 4, 4).

    Returns:
        np.ndarray: ``inv(T)`` of shape (..., 4, 4), computed in closed form.
    """
    R = T[..., :3, :3]
    t = T[..., :3, 3:]
    Rt = np.swapaxes(R, -1, -2)
    out = np.zeros_like(T)
    out[..., :3, :3] = Rt
    out[..., :3, 3:] = -Rt @ t
    out[..., 3, 3] = 1.0
    return out


def relative_pose(T_a: np.ndarray, T_b: np.ndarray) -> np.ndarray:
    """Pose of ``b`` in the frame of ``a``: ``inv(T_a) @ T_b``.

    Args:
        T_a (np.ndarray): Poses of shape (..., 4, 4).
        T_b (np.ndarray): Poses of shape (..., 4, 4).

    Returns:
        np.ndarray: Relative poses of shape (..., 4, 4).

    Note:
        Solved with a general linear solve, not the closed-form inverse:
        poses read from text are only orthonormal to ~1e-9, and the exact
        solve makes :func:`compose_relative` give back the input trajectory
        to machine precision.
    """
    return np.linalg.solve(T_a, T_b)


def compose_relative(T0: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Chain relative poses into absolute poses.

    Args:
        T0 (np.ndarray): Starting pose (4, 4).
        rel (np.ndarray): Relative poses (N, 4, 4), ``rel[i]`` maps frame
            ``i + 1`` into frame ``i``.

    Returns:
        np.ndarray: Absolute poses (N + 1, 4, 4) starting with ``T0``.
    """
    out = np.empty((len(rel) + 1, 4, 4), dtype=np.float64)
    out[0] = T0
    for i, r in enumerate(rel):
        out[i + 1] = out[i] @ r
    return out


def skew(w: np.ndarray) -> np.ndarray:
    """Skew-symmetric matrices ``[w]_x`` of vectors (..., 3) -> (..., 3, 3)."""
    w = np.asarray(w, dtype=np.float64)
    out = np.zeros(w.shape[:-1] + (3, 3))
    out[..., 0, 1] = -w[..., 2]
    out[..., 0, 2] = w[..., 1]
    out[..., 1, 0] = w[..., 2]
    out[..., 1, 2] = -w[..., 0]
    out[..., 2, 0] = -w[..., 1]
    out[..., 2, 1] = w[..., 0]
    return out


def so3_exp(w: np.ndarray) -> np.ndarray:
    """Rotation matrices from axis-angle vectors
    (:meth:`scipy.spatial.transform.Rotation.from_rotvec`).

    Args:
        w (np.ndarray): Axis-angle vectors of shape (..., 3).

    Returns:
        np.ndarray: Rotation matrices of shape (..., 3, 3).
    """
    w = np.asarray(w, dtype=np.float64)
    R = Rotation.from_rotvec(w.reshape(-1, 3)).as_matrix()
    return R.reshape(w.shape[:-1] + (3, 3))


def so3_log(R: np.ndarray) -> np.ndarray:
    """Axis-angle vectors of rotation matrices, the inverse of
    :func:`so3_exp` (:meth:`scipy.spatial.transform.Rotation.as_rotvec`;
    a matrix that is not exactly orthonormal is taken as the nearest
    rotation).

    Args:
        R (np.ndarray): Rotation matrices of shape (..., 3, 3).

    Returns:
        np.ndarray: Axis-angle vectors of shape (..., 3), angle in
        ``[0, pi]``.
    """
    R = np.asarray(R, dtype=np.float64)
    w = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec()
    return w.reshape(R.shape[:-2] + (3, ))


def integrate_gyro(gyro: np.ndarray, dt: Union[float,
                                               Sequence[float]]) -> np.ndarray:
    """Rotation of a body over a run of angular-rate samples.

    Each sample ``w_j`` is held for ``dt_j``:
    ``R = exp(w_0 dt_0) exp(w_1 dt_1) ...`` (body-frame rates).

    Args:
        gyro (np.ndarray): Angular rates (L, 3), rad/s, body frame.
        dt (float | Sequence[float]): Duration of each sample (L,) or one
            value for all, seconds.

    Returns:
        np.ndarray: The rotation (3, 3) of the body at the end of the run
        in its frame at the start.
    """
    gyro = np.asarray(gyro, dtype=np.float64).reshape(-1, 3)
    dt = np.broadcast_to(np.asarray(dt, dtype=np.float64), (len(gyro), ))
    R = np.eye(3)
    for step in so3_exp(gyro * dt[:, None]):
        R = R @ step
    return R


def rotation_angle(R: np.ndarray) -> np.ndarray:
    """Rotation angles in radians of matrices (..., 3, 3), as the KITTI
    devkit computes them (``acos(max(min((tr - 1) / 2, 1), -1))``)."""
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def make_pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Build transforms (..., 4, 4) from rotations (..., 3, 3) and
    translations (..., 3)."""
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    T = np.zeros(R.shape[:-2] + (4, 4))
    T[..., :3, :3] = R
    T[..., :3, 3] = t
    T[..., 3, 3] = 1.0
    return T


def pose_to_vector(T: np.ndarray) -> np.ndarray:
    """Pose vectors (..., 6) of transforms (..., 4, 4): translation, then
    axis-angle (:func:`so3_log`); the inverse of :func:`make_pose` with
    :func:`so3_exp`."""
    T = np.asarray(T, dtype=np.float64)
    return np.concatenate([T[..., :3, 3], so3_log(T[..., :3, :3])], axis=-1)


def _v_coefficients(theta: np.ndarray):
    """``(1 - cos t) / t^2`` and ``(t - sin t) / t^3`` (Taylor series near
    0), the coefficients of SE(3)'s left Jacobian ``V``."""
    small = theta < 1e-4
    t = np.where(small, 1.0, theta)
    a = np.where(small, 0.5 - theta**2 / 24.0, (1.0 - np.cos(t)) / t**2)
    b = np.where(small, 1.0 / 6.0 - theta**2 / 120.0, (t - np.sin(t)) / t**3)
    return a, b


def se3_exp(xi: np.ndarray) -> np.ndarray:
    """Rigid transforms of twists: the SE(3) exponential.

    Args:
        xi (np.ndarray): Twists of shape (..., 6): translational part
            ``v`` (m), then rotational part ``w`` (axis-angle, rad).

    Returns:
        np.ndarray: Transforms (..., 4, 4) ``[[exp(w), V(w) v], [0, 1]]``,
        the motion after unit time at the constant body velocity ``xi``.
    """
    xi = np.asarray(xi, dtype=np.float64)
    v, w = xi[..., :3], xi[..., 3:]
    theta = np.linalg.norm(w, axis=-1)
    a, b = _v_coefficients(theta)
    W = skew(w)
    V = np.eye(3) + a[..., None, None] * W + b[..., None, None] * (W @ W)
    return make_pose(so3_exp(w), (V @ v[..., None])[..., 0])


def se3_log(T: np.ndarray) -> np.ndarray:
    """Twists (..., 6) of rigid transforms (..., 4, 4), the inverse of
    :func:`se3_exp` (rotation angles below pi)."""
    T = np.asarray(T, dtype=np.float64)
    w = so3_log(T[..., :3, :3])
    theta = np.linalg.norm(w, axis=-1)
    a, b = _v_coefficients(theta)
    W = skew(w)
    V = np.eye(3) + a[..., None, None] * W + b[..., None, None] * (W @ W)
    v = np.linalg.solve(V, T[..., :3, 3:])[..., 0]
    return np.concatenate([v, w], axis=-1)
