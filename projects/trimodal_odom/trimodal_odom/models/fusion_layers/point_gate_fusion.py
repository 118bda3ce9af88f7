"""Fusion with a learned gate on the point-cloud feature."""
from typing import List

import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .base_odom_fusion import BaseOdomFusion


@MODELS.register_module()
class PointGateFusion(BaseOdomFusion):
    """Concatenation in which the point-cloud feature is scaled by a gate
    predicted from all features and the modality mask.

    ``g = sigmoid(MLP([f, m]))`` is a scalar (``gate='scalar'``) or one
    value per point-feature channel (``gate='vector'``); the output is
    ``[f_visual, g * f_point, f_imu]`` with ``sum(in_channels)`` channels.
    The gate lets the model lean on LiDAR only where it helps.

    Args:
        gate (str): ``'scalar'`` or ``'vector'``. Defaults to ``'vector'``.
        hidden_channels (int): Hidden size of the gate MLP.
            Defaults to 64.
        **kwargs: Arguments of :class:`BaseOdomFusion`; ``modalities`` must
            contain ``'point'``.
    """

    def __init__(self,
                 *args,
                 gate: str = 'vector',
                 hidden_channels: int = 64,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if 'point' not in self.modalities:
            raise ValueError('PointGateFusion needs the point modality, got '
                             f'{self.modalities}')
        if gate not in ('scalar', 'vector'):
            raise ValueError(f"gate must be 'scalar' or 'vector', got {gate}")
        self.point_index = self.modalities.index('point')
        self.out_channels = sum(self.in_channels)
        gate_channels = (
            self.in_channels[self.point_index] if gate == 'vector' else 1)
        self.gate = nn.Sequential(
            nn.Linear(self.out_channels + len(self.modalities),
                      hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, gate_channels))

    def _gate(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """The gate (N, 1) or (N, C_point) of the point feature."""
        return torch.sigmoid(self.gate(torch.cat(feats + [mask], dim=1)))

    def modality_gates(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """The modality mask (N, M), the point column scaled by the mean
        of the point gate (the other modalities pass ungated)."""
        gates = mask.clone()
        gates[:, self.point_index] *= self._gate(feats, mask).mean(1)
        return gates

    def fuse(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Gate the point feature and concatenate (N, sum(C_i))."""
        g = self._gate(feats, mask)
        feats = list(feats)
        feats[self.point_index] = feats[self.point_index] * g
        return torch.cat(feats, dim=1)
