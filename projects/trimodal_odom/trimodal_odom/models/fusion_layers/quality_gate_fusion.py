"""Fusion with one gate per modality, each read from the quality cues of
its sensor."""
from typing import Dict, List, Optional

import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .base_odom_fusion import BaseOdomFusion

#: The quality input of each modality that has one.
MODALITY_CUES = dict(visual='img_quality', point='reg_quality')


@MODELS.register_module()
class QualityGateFusion(BaseOdomFusion):
    """Concatenation in which each modality's feature is scaled by a gate
    predicted from what tells whether that sensor works now: its quality
    cues.

    ``g_m = sigmoid(MLP_m([q_m, m_m]))`` per modality ``m`` with cues,
    ``q_visual`` the exposure and sharpness of the frame pair
    (``img_quality`` of :class:`OdomImageQuality`: a dark, overexposed or
    blurred frame), ``q_point`` the registration's quality (``reg_quality``
    of ``OdomScanRegistration(quality=True)``: the free direction of an
    open road or a long wall in its Hessian, its inliers and cost) and
    ``m_m`` the modality's mask; a modality without cues (the IMU: its
    availability is its mask) passes ungated. A gate reads its own
    sensor's cues only, not the features, so it can be read, per frame,
    as the weight the fusion gives that sensor. The output is
    ``[g_visual * f_visual, g_point * f_point, f_imu, g]`` (the gates are
    also given to the head, e.g. so that :class:`PriorResidualPoseHead`
    can trust its prior by the registration's quality), ``sum(in_channels)
    + M`` channels.

    Args:
        cue_channels (dict[str, int]): Size of the cue vector of each gated
            modality, keys among :data:`MODALITY_CUES` (and among the
            fused modalities; one not fused is ignored, so that an
            ablation keeps the config), e.g. ``dict(visual=10, point=6)``.
        gate (str): ``'scalar'`` (one weight per modality) or ``'vector'``
            (one per channel of its feature; the plotted weight is their
            mean). Defaults to ``'scalar'``.
        hidden_channels (int): Hidden size of each gate's MLP.
            Defaults to 32.
        init_gate (float): Gate of every modality at the start (the bias
            of each MLP's last layer), in (0, 1). Defaults to 0.9: training
            starts near the plain concatenation.
        **kwargs: Arguments of :class:`BaseOdomFusion`.
    """

    def __init__(self,
                 *args,
                 cue_channels: Dict[str, int],
                 gate: str = 'scalar',
                 hidden_channels: int = 32,
                 init_gate: float = 0.9,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        unknown = set(cue_channels) - set(MODALITY_CUES)
        if unknown:
            raise ValueError(f'cue_channels for {sorted(unknown)}: only '
                             f'{sorted(MODALITY_CUES)} have quality cues')
        if gate not in ('scalar', 'vector'):
            raise ValueError(f"gate must be 'scalar' or 'vector', got {gate}")
        if not 0.0 < init_gate < 1.0:
            raise ValueError(f'init_gate must be in (0, 1), got {init_gate}')
        self.cue_channels = {
            m: int(c)
            for m, c in cue_channels.items() if m in self.modalities
        }
        if any(c <= 0 for c in self.cue_channels.values()):
            raise ValueError(f'cue_channels must be > 0, got {cue_channels}')
        self.quality_channels = self.cue_channels.get('point', 0)
        self.image_quality_channels = self.cue_channels.get('visual', 0)
        self.out_channels = sum(self.in_channels) + len(self.modalities)
        bias = float(torch.logit(torch.tensor(init_gate)))
        self.gates = nn.ModuleDict()
        for m, c in self.cue_channels.items():
            size = self.in_channels[self.modalities.index(m)]
            mlp = nn.Sequential(
                nn.Linear(c + 1, hidden_channels), nn.ReLU(inplace=True),
                nn.Linear(hidden_channels, size if gate == 'vector' else 1))
            nn.init.zeros_(mlp[-1].weight)
            nn.init.constant_(mlp[-1].bias, bias)
            self.gates[m] = mlp

    def init_weights(self) -> None:
        """Keep the gates' start at ``init_gate`` (a zero last layer)."""
        starts = {
            m: g[-1].bias.detach().clone()
            for m, g in self.gates.items()
        }
        super().init_weights()
        for m, g in self.gates.items():
            nn.init.zeros_(g[-1].weight)
            g[-1].bias.data.copy_(starts[m])

    def _gates(self,
               mask: Tensor,
               reg_quality: Optional[Tensor] = None,
               img_quality: Optional[Tensor] = None) -> List[Tensor]:
        """Gate of each modality, (N, 1) or (N, C_i), times its mask."""
        cues = dict(visual=img_quality, point=reg_quality)
        out = []
        for i, m in enumerate(self.modalities):
            present = mask[:, i, None]
            if m not in self.gates:
                out.append(present)
                continue
            q = cues[m].to(mask.dtype) * present
            out.append(
                torch.sigmoid(self.gates[m](torch.cat([q, present], 1))) *
                present)
        return out

    def fuse(self,
             feats: List[Tensor],
             mask: Tensor,
             reg_quality: Optional[Tensor] = None,
             img_quality: Optional[Tensor] = None) -> Tensor:
        """Gated features and the gates, (N, sum(C_i) + M)."""
        gates = self._gates(mask, reg_quality, img_quality)
        weights = torch.stack([g.mean(1) for g in gates], dim=1)
        return torch.cat(
            [f * g for f, g in zip(feats, gates)] + [weights], dim=1)

    def modality_gates(self,
                       feats: List[Tensor],
                       mask: Tensor,
                       reg_quality: Optional[Tensor] = None,
                       img_quality: Optional[Tensor] = None) -> Tensor:
        """Weight of each modality (N, M): its gate (the mean over the
        channels of a vector gate), 1 for an ungated one, 0 where absent."""
        gates = self._gates(mask, reg_quality, img_quality)
        return torch.stack([g.mean(1) for g in gates], dim=1)
