"""Fusion with a learned gate on the point-cloud feature."""
from typing import List, Optional

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

    With ``quality_channels`` the gate also sees how far the registration
    of the two scans can be trusted, ``g = sigmoid(MLP([f, m, q]))``
    (``q`` (N, Q): ``reg_quality`` of
    ``OdomScanRegistration(quality=True)``, zeroed with the point
    modality): a signal of LiDAR failure, e.g. the free direction of an
    open road in the registration's Hessian, that the point feature of a
    PointNet does not carry.

    Args:
        gate (str): ``'scalar'`` or ``'vector'``. Defaults to ``'vector'``.
        hidden_channels (int): Hidden size of the gate MLP.
            Defaults to 64.
        quality_channels (int): Size Q of the registration-quality vector
            the gate reads; 0 for none. Defaults to 0.
        **kwargs: Arguments of :class:`BaseOdomFusion`; ``modalities`` must
            contain ``'point'``.
    """

    def __init__(self,
                 *args,
                 gate: str = 'vector',
                 hidden_channels: int = 64,
                 quality_channels: int = 0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if 'point' not in self.modalities:
            raise ValueError('PointGateFusion needs the point modality, got '
                             f'{self.modalities}')
        if gate not in ('scalar', 'vector'):
            raise ValueError(f"gate must be 'scalar' or 'vector', got {gate}")
        if quality_channels < 0:
            raise ValueError(
                f'quality_channels must be >= 0, got {quality_channels}')
        self.point_index = self.modalities.index('point')
        self.out_channels = sum(self.in_channels)
        self.quality_channels = int(quality_channels)
        gate_channels = (
            self.in_channels[self.point_index] if gate == 'vector' else 1)
        self.gate = nn.Sequential(
            nn.Linear(
                self.out_channels + len(self.modalities) +
                self.quality_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, gate_channels))

    def _gate(self,
              feats: List[Tensor],
              mask: Tensor,
              reg_quality: Optional[Tensor] = None) -> Tensor:
        """The gate (N, 1) or (N, C_point) of the point feature."""
        inputs = feats + [mask]
        if reg_quality is not None:
            point = mask[:, self.point_index, None]
            inputs.append(reg_quality.to(mask.dtype) * point)
        return torch.sigmoid(self.gate(torch.cat(inputs, dim=1)))

    def modality_gates(self,
                       feats: List[Tensor],
                       mask: Tensor,
                       reg_quality: Optional[Tensor] = None) -> Tensor:
        """The modality mask (N, M), the point column scaled by the mean
        of the point gate (the other modalities pass ungated)."""
        gates = mask.clone()
        gates[:, self.point_index] *= self._gate(feats, mask,
                                                 reg_quality).mean(1)
        return gates

    def fuse(self,
             feats: List[Tensor],
             mask: Tensor,
             reg_quality: Optional[Tensor] = None) -> Tensor:
        """Gate the point feature and concatenate (N, sum(C_i))."""
        g = self._gate(feats, mask, reg_quality)
        feats = list(feats)
        feats[self.point_index] = feats[self.point_index] * g
        return torch.cat(feats, dim=1)
