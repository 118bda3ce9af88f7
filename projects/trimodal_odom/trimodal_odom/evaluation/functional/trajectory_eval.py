"""Absolute and relative trajectory errors (ATE, RPE)."""
from typing import Dict, Tuple

import numpy as np

from ...utils.se3 import relative_pose, rotation_angle


def umeyama_alignment(src: np.ndarray,
                      dst: np.ndarray,
                      with_scale: bool = False
                      ) -> Tuple[np.ndarray, np.ndarray, float]:
    """Least-squares similarity transform mapping ``src`` onto ``dst``.

    Umeyama, "Least-squares estimation of transformation parameters
    between two point patterns", TPAMI 1991: minimises
    ``sum |dst_i - (s R src_i + t)|^2``.

    Args:
        src (np.ndarray): Points of shape (N, 3).
        dst (np.ndarray): Points of shape (N, 3).
        with_scale (bool): Estimate the scale (Sim(3)); otherwise
            ``s = 1`` (SE(3)). Defaults to False.

    Returns:
        tuple: Rotation (3, 3), translation (3,) and scale.
    """
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3:
        raise ValueError(f'src {src.shape} and dst {dst.shape} must both be '
                         '(N, 3)')
    if len(src) < 3:
        raise ValueError(f'alignment needs at least 3 points, got {len(src)}')
    mu_src, mu_dst = src.mean(0), dst.mean(0)
    src_c, dst_c = src - mu_src, dst - mu_dst
    cov = dst_c.T @ src_c / len(src)
    U, D, Vt = np.linalg.svd(cov)
    S = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        S[2, 2] = -1.0
    R = U @ S @ Vt
    scale = 1.0
    if with_scale:
        var_src = (src_c**2).sum() / len(src)
        scale = float(np.trace(np.diag(D) @ S) / var_src)
    t = mu_dst - scale * R @ mu_src
    return R, t, scale


def absolute_trajectory_error(gt: np.ndarray,
                              est: np.ndarray,
                              with_scale: bool = False) -> float:
    """RMSE of positions after aligning the estimate to the ground truth.

    Args:
        gt (np.ndarray): Ground-truth poses of shape (N, 4, 4).
        est (np.ndarray): Estimated poses of shape (N, 4, 4).
        with_scale (bool): Sim(3) instead of SE(3) alignment.
            Defaults to False.

    Returns:
        float: ATE in metres.
    """
    R, t, s = umeyama_alignment(est[:, :3, 3], gt[:, :3, 3], with_scale)
    aligned = s * est[:, :3, 3] @ R.T + t
    return float(np.sqrt(np.mean(np.sum((aligned - gt[:, :3, 3])**2, axis=1))))


def relative_pose_error(gt: np.ndarray,
                        est: np.ndarray,
                        delta: int = 1) -> Dict[str, float]:
    """RMSE of the relative-motion errors over a fixed frame delta.

    For every ``i``: ``E_i = inv(inv(P_gt[i]) P_gt[i+d]) @ (inv(P_est[i])
    P_est[i+d])``.

    Args:
        gt (np.ndarray): Ground-truth poses of shape (N, 4, 4).
        est (np.ndarray): Estimated poses of shape (N, 4, 4).
        delta (int): Frame delta ``d``. Defaults to 1.

    Returns:
        dict: ``rpe_t`` (m) and ``rpe_r`` (deg), RMSE over all ``i``; NaN
        when the trajectory is not longer than ``delta``.
    """
    if len(gt) <= delta:
        return dict(rpe_t=np.nan, rpe_r=np.nan)
    err = relative_pose(
        relative_pose(gt[:-delta], gt[delta:]),
        relative_pose(est[:-delta], est[delta:]))
    t = np.linalg.norm(err[:, :3, 3], axis=1)
    r = np.degrees(rotation_angle(err[:, :3, :3]))
    return dict(
        rpe_t=float(np.sqrt(np.mean(t**2))),
        rpe_r=float(np.sqrt(np.mean(r**2))))
