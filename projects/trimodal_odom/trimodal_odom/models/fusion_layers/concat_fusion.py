"""Fusion by concatenation."""
from typing import List

import torch
from mmdet3d.registry import MODELS
from torch import Tensor

from .base_odom_fusion import BaseOdomFusion


@MODELS.register_module()
class ConcatFusion(BaseOdomFusion):
    """Concatenate the (masked) features and the modality mask.

    Takes the arguments of :class:`BaseOdomFusion`.  The output has
    ``sum(in_channels) + len(modalities)`` channels.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.out_channels = sum(self.in_channels) + len(self.modalities)

    def fuse(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Concatenate features (N, C_i) and the mask (N, M)."""
        return torch.cat(feats + [mask], dim=1)
