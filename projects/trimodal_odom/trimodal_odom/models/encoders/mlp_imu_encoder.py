"""MLP encoder of an IMU window."""
from typing import Sequence

import torch
from mmdet3d.registry import MODELS
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils import linear_relu_stack, masked_max


@MODELS.register_module()
class MLPIMUEncoder(BaseModule):
    """Per-sample MLP followed by masked mean and max pooling over time.

    Args:
        in_channels (int): Channels of an IMU sample. Defaults to 6.
        mlp_channels (Sequence[int]): Channels of the per-sample MLP.
            Defaults to (64, 128).
        out_channels (int): Size of the feature vector. Defaults to 128.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 6,
                 mlp_channels: Sequence[int] = (64, 128),
                 out_channels: int = 128,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.mlp, c_in = linear_relu_stack(in_channels, mlp_channels)
        self.fc = nn.Sequential(
            nn.Linear(2 * c_in, out_channels), nn.ReLU(inplace=True))
        self.out_channels = out_channels

    def forward(self, imu: Tensor, mask: Tensor) -> Tensor:
        """Encode IMU windows.

        Args:
            imu (Tensor): Normalised samples of shape (N, L, C).
            mask (Tensor): Valid samples, bool of shape (N, L).

        Returns:
            Tensor: Features of shape (N, out_channels); an empty window
            gives zeros.
        """
        if imu.shape[-1] != self.in_channels:
            raise ValueError(f'imu has {imu.shape[-1]} channels, the '
                             f'encoder expects {self.in_channels}')
        x = self.mlp(imu)
        m = mask[..., None].to(x.dtype)
        count = m.sum(1)
        mean = (x * m).sum(1) / count.clamp_min(1.0)
        peak = masked_max(x, mask[..., None], dim=1)
        out = self.fc(torch.cat([mean, peak], 1))
        return out * (count > 0).to(out.dtype)
