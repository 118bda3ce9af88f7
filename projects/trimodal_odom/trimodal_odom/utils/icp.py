"""Point-to-plane ICP between two LiDAR scans (NumPy + SciPy k-d tree, CPU).

Gauss-Newton on the point-to-plane distances with a Huber weight, target
normals from a PCA of each target point's nearest neighbours, and a
correspondence gate that shrinks geometrically from ``max_dist[0]`` to
``max_dist[1]`` over the iterations (wide first to catch the motion between
frames, tight last for accuracy).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from scipy.spatial import cKDTree

from .se3 import make_pose, so3_exp


def estimate_normals(points: np.ndarray, tree: cKDTree,
                     num_neighbors: int) -> np.ndarray:
    """Unit normals (N, 3) of ``points`` (N, 3): the direction of least
    spread of each point's ``num_neighbors`` nearest neighbours."""
    _, idx = tree.query(points, k=num_neighbors)
    nbrs = points[idx]  # (N, k, 3)
    centred = nbrs - nbrs.mean(axis=1, keepdims=True)
    cov = np.einsum('nki,nkj->nij', centred, centred)
    _, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    return vecs[:, :, 0]


def _check_cloud(name: str, points: np.ndarray, min_points: int) -> None:
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f'{name} must be (N, 3), got {points.shape}')
    if not np.isfinite(points).all():
        raise ValueError(f'{name} contains NaN or inf')
    if len(points) < min_points:
        raise ValueError(f'{name} has {len(points)} points, fewer than '
                         f'{min_points}')


def point_to_plane_icp(source: np.ndarray,
                       target: np.ndarray,
                       init: Optional[np.ndarray] = None,
                       max_iters: int = 30,
                       max_dist: Sequence[float] = (2.0, 0.15),
                       num_neighbors: int = 10,
                       huber: float = 0.1,
                       min_correspondences: int = 100
                       ) -> Tuple[np.ndarray, Dict]:
    """Rigid transform ``T`` (4, 4) with ``target ~= T @ source``.

    Args:
        source (np.ndarray): Points (N, 3) to move.
        target (np.ndarray): Points (M, 3) to align to.
        init (np.ndarray, optional): Initial ``T`` (4, 4). Defaults to the
            identity.
        max_iters (int): Gauss-Newton iterations. Defaults to 30.
        max_dist (Sequence[float]): Correspondence gate (m) of the first
            and the last iteration. Defaults to (2.0, 0.15).
        num_neighbors (int): Neighbours of a target normal. Defaults to 10.
        huber (float): Huber threshold (m) of the residuals.
            Defaults to 0.1.
        min_correspondences (int): Fewer correspondences in an iteration
            end the registration as failed. Defaults to 100.

    Returns:
        tuple[np.ndarray, dict]: ``T`` and ``info``: ``converged`` (bool;
        False when the correspondences ran short, ``T`` is then the last
        estimate), ``iterations``, ``num_correspondences`` and ``rmse``
        (m, point-to-plane, of the last iteration).

    Raises:
        ValueError: Clouds that are not finite (N, 3) arrays with at least
            ``num_neighbors`` points, or a bad ``init``.
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    _check_cloud('source', source, 1)
    _check_cloud('target', target, num_neighbors)
    T = np.eye(4) if init is None else np.array(init, dtype=np.float64)
    if T.shape != (4, 4) or not np.isfinite(T).all():
        raise ValueError(f'init must be a finite (4, 4) matrix, got {T}')
    tree = cKDTree(target)
    normals = estimate_normals(target, tree, num_neighbors)
    gates = np.geomspace(max_dist[0], max_dist[1], max_iters)
    info = dict(
        converged=False, iterations=0, num_correspondences=0, rmse=np.nan)
    for it, gate in enumerate(gates):
        moved = source @ T[:3, :3].T + T[:3, 3]
        dist, idx = tree.query(moved, distance_upper_bound=gate)
        ok = np.isfinite(dist)
        info.update(iterations=it + 1, num_correspondences=int(ok.sum()))
        if ok.sum() < min_correspondences:
            return T, info
        p, q, n = moved[ok], target[idx[ok]], normals[idx[ok]]
        r = np.einsum('ij,ij->i', p - q, n)
        # d r / d (w, v) for p -> p + w x p + v
        J = np.hstack([np.cross(p, n), n])
        w = np.minimum(1.0, huber / np.maximum(np.abs(r), 1e-12))
        H = J.T @ (J * w[:, None]) + 1e-9 * np.eye(6)
        xi = -np.linalg.solve(H, J.T @ (w * r))
        T = make_pose(so3_exp(xi[:3]), xi[3:]) @ T
        info['rmse'] = float(np.sqrt(np.mean(r**2)))
    info['converged'] = True
    return T, info
