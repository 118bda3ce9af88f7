"""Bird's-eye-view encoder of a LiDAR scan pair."""
from typing import Sequence

import torch
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class BEVPairEncoder(BaseModule):
    """Rasterise both scans of a pair into bird's-eye-view maps, stack them
    and encode the stack with a 2-D CNN.

    Each scan gives two maps on an (x, y) grid of the LiDAR frame: occupancy
    (``log1p`` of the number of points in a cell) and the highest point's
    height, scaled to [0, 1] over ``point_cloud_range``. The four maps of a
    pair go through ``backbone`` together, so its convolutions see how the
    scene moved between the scans, the same everywhere in the grid for a
    translation (a pillar-style alternative to a global PointNet feature,
    which has to infer the motion from two unordered point sets).

    Args:
        point_cloud_range (Sequence[float]): ``[x_min, y_min, z_min, x_max,
            y_max, z_max]`` in metres; points outside are ignored.
        voxel_size (Sequence[float]): Cell size ``(x, y)`` in metres.
        backbone (dict): 2-D backbone config taking 4 channels and returning
            a tuple whose last map is used, e.g. ``LightConvNet``.
        feat_channels (int): Channels of the backbone's last map.
        out_channels (int): Size of the feature vector. Defaults to 256.
        pool_size (int): The last map is average-pooled to
            ``pool_size x pool_size`` cells before the projection, which
            keeps coarse position (rotation moves near and far cells
            differently). Defaults to 2.
        in_channels (int): Channels of a point (x, y, z first).
            Defaults to 4.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 point_cloud_range: Sequence[float],
                 voxel_size: Sequence[float],
                 backbone: ConfigType,
                 feat_channels: int,
                 out_channels: int = 256,
                 pool_size: int = 2,
                 in_channels: int = 4,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        pcr = [float(v) for v in point_cloud_range]
        if len(pcr) != 6 or not (pcr[0] < pcr[3] and pcr[1] < pcr[4]
                                 and pcr[2] < pcr[5]):
            raise ValueError('point_cloud_range must be [x_min, y_min, z_min,'
                             f' x_max, y_max, z_max], got {point_cloud_range}')
        if len(voxel_size) != 2 or min(voxel_size) <= 0:
            raise ValueError('voxel_size must be two positive sizes (x, y), '
                             f'got {voxel_size}')
        if in_channels < 3:
            raise ValueError('points need at least x, y, z; in_channels='
                             f'{in_channels}')
        self.point_cloud_range = pcr
        self.voxel_size = [float(v) for v in voxel_size]
        self.grid = (round((pcr[4] - pcr[1]) / self.voxel_size[1]),
                     round((pcr[3] - pcr[0]) / self.voxel_size[0]))  # H, W
        self.in_channels = in_channels
        self.backbone = MODELS.build(backbone)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.fc = nn.Sequential(
            nn.Linear(feat_channels * pool_size * pool_size, out_channels),
            nn.ReLU(inplace=True))
        self.out_channels = out_channels

    def rasterize(self, points: Tensor, mask: Tensor) -> Tensor:
        """Bird's-eye-view maps of scan pairs.

        Args:
            points (Tensor): Zero-padded scans of shape (N, 2, P, C).
            mask (Tensor): Valid points, bool of shape (N, 2, P).

        Returns:
            Tensor: Maps of shape (N, 4, H, W): occupancy and height of the
            first scan, then of the second.
        """
        n, s, p, _ = points.shape
        h, w = self.grid
        x_min, y_min, z_min, x_max, y_max, z_max = self.point_cloud_range
        x, y, z = points[..., 0], points[..., 1], points[..., 2]
        ix = torch.floor((x - x_min) / self.voxel_size[0]).long()
        iy = torch.floor((y - y_min) / self.voxel_size[1]).long()
        keep = mask & (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h) & (
            z >= z_min) & (
                z < z_max)
        scan = torch.arange(n * s, device=points.device).view(n, s, 1)
        cell = (scan * h + iy.clamp(0, h - 1)) * w + ix.clamp(0, w - 1)
        cell, keep = cell.reshape(-1), keep.reshape(-1)
        height = ((z - z_min) / (z_max - z_min)).reshape(-1)
        count = points.new_zeros(n * s * h * w)
        count.index_add_(0, cell[keep], torch.ones_like(height[keep]))
        top = points.new_zeros(n * s * h * w)
        top.scatter_reduce_(
            0, cell[keep], height[keep], reduce='amax', include_self=True)
        maps = torch.stack([torch.log1p(count), top], dim=1)  # (NS*HW, 2)
        return maps.view(n, s, h, w, 2).permute(0, 1, 4, 2,
                                                3).reshape(n, s * 2, h, w)

    def forward(self, points: Tensor, mask: Tensor) -> Tensor:
        """Encode scan pairs.

        Args:
            points (Tensor): Zero-padded scans of shape (N, 2, P, C).
            mask (Tensor): Valid points, bool of shape (N, 2, P).

        Returns:
            Tensor: Features of shape (N, out_channels).
        """
        if points.dim() != 4 or points.shape[1] != 2:
            raise ValueError('points must be (N, 2, P, C), got '
                             f'{tuple(points.shape)}')
        if points.shape[-1] != self.in_channels:
            raise ValueError(f'points have {points.shape[-1]} channels, the '
                             f'encoder expects {self.in_channels}')
        feat = self.backbone(self.rasterize(points, mask))[-1]
        return self.fc(self.pool(feat).flatten(1))
