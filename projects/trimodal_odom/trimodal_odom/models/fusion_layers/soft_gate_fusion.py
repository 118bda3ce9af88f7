"""Soft (feature-wise) gated fusion."""
from typing import List

import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .base_odom_fusion import BaseOdomFusion


@MODELS.register_module()
class SoftGateFusion(BaseOdomFusion):
    """Soft fusion of "Selective Sensor Fusion for Neural Visual-Inertial
    Odometry" (Chen et al., CVPR 2019): a sigmoid mask predicted from all
    features re-weights every feature channel.

    ``fused = f * sigmoid(W [f, m] + b)`` with ``f`` the concatenated
    features and ``m`` the modality mask.  Takes the arguments of
    :class:`BaseOdomFusion`; the output has ``sum(in_channels)`` channels.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.out_channels = sum(self.in_channels)
        self.gate = nn.Linear(self.out_channels + len(self.modalities),
                              self.out_channels)

    def fuse(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Gate the concatenated features (N, sum(C_i))."""
        f = torch.cat(feats, dim=1)
        return f * torch.sigmoid(self.gate(torch.cat([f, mask], dim=1)))
