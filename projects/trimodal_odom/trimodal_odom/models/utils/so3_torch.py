"""Differentiable SO(3) / SE(3) maps on torch tensors.

The numpy counterparts used for evaluation live in
:mod:`projects.trimodal_odom.trimodal_odom.utils.se3`; these are needed
where gradients flow (the pose head and the rotation losses).
"""
import torch
from torch import Tensor


def axis_angle_to_matrix(w: Tensor) -> Tensor:
    """Rotation matrices from axis-angle vectors (Rodrigues' formula).

    Args:
        w (Tensor): Axis-angle vectors of shape (..., 3), angle ``|w|`` in
            radians.

    Returns:
        Tensor: Rotation matrices of shape (..., 3, 3).
    """
    theta2 = (w * w).sum(-1, keepdim=True).unsqueeze(-1)
    theta = theta2.clamp_min(1e-12).sqrt()
    small = theta2 < 1e-8
    # Taylor expansions near zero keep the gradient finite.
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0,
                    (1.0 - torch.cos(theta)) / theta.pow(2))
    zero = torch.zeros_like(w[..., 0])
    K = torch.stack([
        zero, -w[..., 2], w[..., 1], w[..., 2], zero, -w[..., 0], -w[..., 1],
        w[..., 0], zero
    ],
                    dim=-1).reshape(w.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=w.dtype, device=w.device).expand_as(K)
    return eye + a * K + b * (K @ K)


def rotation_geodesic_angle(R_a: Tensor, R_b: Tensor) -> Tensor:
    """Angle of the rotation ``R_a^T @ R_b`` in radians.

    Args:
        R_a (Tensor): Rotation matrices of shape (..., 3, 3).
        R_b (Tensor): Rotation matrices of shape (..., 3, 3).

    Returns:
        Tensor: Angles of shape (...,) in ``[0, pi]``.
    """
    R = R_a.transpose(-1, -2) @ R_b
    cos = (R.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0
    # Clamped strictly inside [-1, 1]: acos has an infinite slope at +-1.
    return torch.acos(cos.clamp(-1.0 + 1e-7, 1.0 - 1e-7))


def pose_vector_to_matrix(pose: Tensor) -> Tensor:
    """Homogeneous transforms from translation + axis-angle vectors.

    Args:
        pose (Tensor): Vectors of shape (..., 6): translation (x, y, z)
            followed by the axis-angle rotation.

    Returns:
        Tensor: Transforms of shape (..., 4, 4).
    """
    T = torch.zeros(
        pose.shape[:-1] + (4, 4), dtype=pose.dtype, device=pose.device)
    T[..., :3, :3] = axis_angle_to_matrix(pose[..., 3:])
    T[..., :3, 3] = pose[..., :3]
    T[..., 3, 3] = 1.0
    return T
