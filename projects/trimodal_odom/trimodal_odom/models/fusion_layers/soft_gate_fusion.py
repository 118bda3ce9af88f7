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

    def _gate(self, f: Tensor, mask: Tensor) -> Tensor:
        """The sigmoid mask (N, sum(C_i)) of the concatenated features."""
        return torch.sigmoid(self.gate(torch.cat([f, mask], dim=1)))

    def fuse(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Gate the concatenated features (N, sum(C_i))."""
        f = torch.cat(feats, dim=1)
        return f * self._gate(f, mask)

    def modality_gates(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Mean of the sigmoid mask over each modality's channels, times
        the modality mask (N, M)."""
        g = self._gate(torch.cat(feats, dim=1), mask)
        means = [c.mean(1) for c in g.split(list(self.in_channels), dim=1)]
        return torch.stack(means, dim=1) * mask
