"""The KITTI odometry benchmark metric (relative errors over segments).

Re-implements the definition of the KITTI devkit (``evaluate_odometry``):

* ``dist[i]``: distance travelled along the ground truth up to frame
  ``i`` (sum of the distances between consecutive positions);
* for every ``first`` frame in steps of ``step_size`` (10) and every
  segment length ``L`` in 100, 200, ..., 800 m, the ``last`` frame is the
  first frame with ``dist[last] > dist[first] + L`` (the pair is skipped
  when there is none);
* with ``D_gt = inv(P_gt[first]) @ P_gt[last]`` and ``D_est`` likewise,
  the error is ``E = inv(D_est) @ D_gt`` (the inverse of
  ``inv(D_gt) @ D_est``: same angle and translation norm for rigid
  transforms); the rotation error is ``angle(E) / L`` with
  ``angle = acos(clip((trace(R) - 1) / 2, -1, 1))`` and the translation
  error ``|t(E)| / L``;
* the sequence errors are the means over all (first, length) pairs.

The devkit uses single precision for the distances; this module uses
double precision.
"""
from typing import Dict, Sequence

import numpy as np

from ...utils.se3 import relative_pose, rotation_angle

KITTI_LENGTHS = (100, 200, 300, 400, 500, 600, 700, 800)


def trajectory_distances(poses: np.ndarray) -> np.ndarray:
    """Cumulative distance travelled at every frame.

    Args:
        poses (np.ndarray): Poses of shape (N, 4, 4).

    Returns:
        np.ndarray: Distances of shape (N,), ``dist[0] = 0``.
    """
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def segment_errors(gt: np.ndarray,
                   est: np.ndarray,
                   lengths: Sequence[float] = KITTI_LENGTHS,
                   step_size: int = 10) -> np.ndarray:
    """Errors of all (first frame, length) segments of a sequence.

    Args:
        gt (np.ndarray): Ground-truth poses of shape (N, 4, 4).
        est (np.ndarray): Estimated poses of shape (N, 4, 4).
        lengths (Sequence[float]): Segment lengths in metres.
            Defaults to 100, ..., 800.
        step_size (int): Step between first frames. Defaults to 10.

    Returns:
        np.ndarray: Rows ``(first, length, r_err, t_err)`` of shape (S, 4),
        errors per metre (radians / m and m / m).
    """
    if gt.shape != est.shape or gt.ndim != 3 or gt.shape[1:] != (4, 4):
        raise ValueError(f'gt {gt.shape} and est {est.shape} must both be '
                         '(N, 4, 4)')
    dist = trajectory_distances(gt)
    rows = []
    for first in range(0, len(gt), step_size):
        for length in lengths:
            # First frame strictly beyond dist[first] + length.
            last = np.searchsorted(dist, dist[first] + length, side='right')
            if last >= len(gt):
                continue
            delta_gt = relative_pose(gt[first], gt[last])
            delta_est = relative_pose(est[first], est[last])
            err = relative_pose(delta_est, delta_gt)
            rows.append((first, length, rotation_angle(err[:3, :3]) / length,
                         np.linalg.norm(err[:3, 3]) / length))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def summarize_errors(errors: np.ndarray,
                     lengths: Sequence[float] = KITTI_LENGTHS
                     ) -> Dict[str, float]:
    """Average segment errors as the KITTI benchmark reports them.

    Args:
        errors (np.ndarray): Rows of :func:`segment_errors`, possibly of
            several sequences.
        lengths (Sequence[float]): Segment lengths for per-length errors.

    Returns:
        dict: ``t_rel`` (%), ``r_rel`` (deg / 100 m), ``num_segments``, and
        ``t_rel_{L}`` / ``r_rel_{L}`` for each length with segments; NaN
        when there is no segment (trajectory shorter than 100 m).
    """
    out = dict(num_segments=float(len(errors)))
    out['t_rel'] = errors[:, 3].mean() * 100 if len(errors) else np.nan
    out['r_rel'] = (
        np.degrees(errors[:, 2].mean()) * 100 if len(errors) else np.nan)
    for length in lengths:
        sel = errors[errors[:, 1] == length]
        if len(sel):
            out[f't_rel_{int(length)}'] = sel[:, 3].mean() * 100
            out[f'r_rel_{int(length)}'] = np.degrees(sel[:, 2].mean()) * 100
    return out
