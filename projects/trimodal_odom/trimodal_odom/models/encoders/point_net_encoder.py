"""PointNet-style encoder of a LiDAR scan pair."""
from typing import Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils import masked_max


@MODELS.register_module()
class PointNetEncoder(BaseModule):
    """Shared point-wise MLP and masked max-pool on each scan of a pair.

    The two global scan features ``f_t`` and ``f_{t+k}`` are combined as
    ``[f_t, f_{t+k}, f_{t+k} - f_t]`` and projected to ``out_channels``.

    Args:
        in_channels (int): Channels of a point (x, y, z, reflectance).
            Defaults to 4.
        mlp_channels (Sequence[int]): Channels of the shared MLP.
            Defaults to (64, 128, 256).
        out_channels (int): Size of the feature vector. Defaults to 256.
        norm_cfg (dict, optional): Normalisation of the shared MLP. Defaults
            to None (padding points would bias batch statistics).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 4,
                 mlp_channels: Sequence[int] = (64, 128, 256),
                 out_channels: int = 256,
                 norm_cfg: Optional[ConfigType] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        layers = []
        c_in = in_channels
        for c_out in mlp_channels:
            layers.append(
                ConvModule(
                    c_in,
                    c_out,
                    1,
                    conv_cfg=dict(type='Conv1d'),
                    norm_cfg=norm_cfg,
                    act_cfg=dict(type='ReLU')))
            c_in = c_out
        self.mlp = nn.Sequential(*layers)
        self.fuse = nn.Sequential(
            nn.Linear(3 * c_in, out_channels), nn.ReLU(inplace=True))
        self.out_channels = out_channels

    def forward(self, points: Tensor, mask: Tensor) -> Tensor:
        """Encode scan pairs.

        Args:
            points (Tensor): Zero-padded scans of shape (N, 2, P, C).
            mask (Tensor): Valid points, bool of shape (N, 2, P).

        Returns:
            Tensor: Features of shape (N, out_channels); an empty scan
            contributes zeros.
        """
        n, s, p, c = points.shape
        if c != self.in_channels:
            raise ValueError(f'points have {c} channels, the encoder '
                             f'expects {self.in_channels}')
        x = self.mlp(points.reshape(n * s, p, c).transpose(1, 2))
        valid = mask.reshape(n * s, 1, p)
        x = masked_max(x, valid, dim=-1)
        x = x.view(n, s, -1)
        return self.fuse(torch.cat([x[:, 0], x[:, 1], x[:, 1] - x[:, 0]], 1))
