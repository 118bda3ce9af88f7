"""Photometric reprojection loss between consecutive camera frames, warped
with the LiDAR depth and a predicted motion."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class PhotometricReprojectionLoss(nn.Module):
    """Self-supervised photometric loss of a relative pose (no ground
    truth).

    The LiDAR points of frame ``t`` give sparse depth: each point ``X`` (in
    the camera-0 frame of ``t``) is projected into image ``t`` at
    ``p = pi(P [X; 1])`` and, moved by the predicted motion, into image
    ``t + 1`` at ``p' = pi(P [inv(T) X; 1])``. With the true motion and a
    static, Lambertian scene both images show the same colour there:

        loss = mean over the points visible in both images of
               mean_c |I_t(p) - I_{t+1}(p')|

    (bilinear sampling, so the loss is differentiable in ``T``). Points
    nearer than ``min_depth`` in either frame, projected outside either
    image or masked out are not used. This is the photometric term of
    self-supervised depth and motion learning (SfMLearner, Monodepth2) with
    the depth taken from the LiDAR instead of a depth network.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        min_depth (float): Nearest depth (m) used. Defaults to 1.0.
        margin (float): Pixels kept clear of the image border.
            Defaults to 1.0.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 min_depth: float = 1.0,
                 margin: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.min_depth = min_depth
        self.margin = margin

    def _project(self, P: Tensor, X: Tensor, size) -> tuple:
        """Pixels (N, Q, 2) of camera points ``X`` (N, Q, 3) and whether
        they are in front and inside an image of ``size`` (H, W)."""
        uvw = torch.einsum('nij,nqj->nqi', P[:, :, :3], X) + P[:, None, :, 3]
        depth = uvw[..., 2]
        uv = uvw[..., :2] / depth.clamp(min=1e-6)[..., None]
        H, W = size
        m = self.margin
        ok = ((depth > self.min_depth) & (uv[..., 0] >= m)
              & (uv[..., 0] <= W - 1 - m) & (uv[..., 1] >= m)
              & (uv[..., 1] <= H - 1 - m))
        return uv, ok

    @staticmethod
    def _sample(img: Tensor, uv: Tensor) -> Tensor:
        """Bilinear colours (N, Q, C) of ``img`` (N, C, H, W) at pixel
        centres ``uv`` (N, Q, 2)."""
        H, W = img.shape[-2:]
        grid = torch.stack([(2 * uv[..., 0] + 1) / W - 1,
                            (2 * uv[..., 1] + 1) / H - 1], -1)
        out = F.grid_sample(
            img, grid[:, None], mode='bilinear', align_corners=False)
        return out[:, :, 0].transpose(1, 2)

    def forward(self,
                imgs: Tensor,
                points: Tensor,
                P: Tensor,
                pose: Tensor,
                points_mask: Optional[Tensor] = None) -> Tensor:
        """Photometric error of the motion ``pose``.

        Args:
            imgs (Tensor): Frames ``t`` and ``t + 1``, (N, 2, C, H, W).
            points (Tensor): LiDAR points of frame ``t`` in its camera-0
                frame, (N, Q, 3).
            P (Tensor): Projection (N, 3, 4) from the camera-0 frame to the
                pixels of ``imgs`` (KITTI's ``P2``, scaled to the image
                size).
            pose (Tensor): Pose of frame ``t + 1`` in the camera-0 frame of
                ``t`` (as ``gt_pose``), (N, 4, 4).
            points_mask (Tensor, optional): Valid points, bool (N, Q).

        Returns:
            Tensor: The weighted loss, a scalar (zero, still attached to
            ``pose``, when no point is visible in both frames).
        """
        if imgs.dim() != 5 or imgs.shape[1] != 2:
            raise ValueError(f'imgs must be (N, 2, C, H, W), got '
                             f'{tuple(imgs.shape)}')
        size = imgs.shape[-2:]
        R, t = pose[:, :3, :3], pose[:, :3, 3]
        # inv(T) X = R^T (X - t)
        moved = torch.einsum('nji,nqj->nqi', R, points - t[:, None])
        uv0, ok0 = self._project(P, points, size)
        uv1, ok1 = self._project(P, moved, size)
        valid = ok0 & ok1
        if points_mask is not None:
            valid = valid & points_mask
        if not valid.any():
            return pose.sum() * 0.0
        diff = (self._sample(imgs[:, 0], uv0) -
                self._sample(imgs[:, 1], uv1)).abs().mean(-1)
        loss = (diff * valid).sum() / valid.sum()
        return self.loss_weight * loss
