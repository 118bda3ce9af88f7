"""A light convolutional backbone for stacked image pairs."""
from typing import Optional, Sequence, Tuple

from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class LightConvNet(BaseModule):
    """Plain stride-2 convolution stack, a cheap alternative to ResNet.

    In the spirit of the FlowNet-style encoders of learned visual odometry:
    large kernels first, every stage halves the resolution.

    Args:
        in_channels (int): Input channels (6 for a stacked RGB pair).
            Defaults to 6.
        channels (Sequence[int]): Output channels of the stages.
            Defaults to (32, 64, 128, 256).
        kernel_sizes (Sequence[int]): Kernel size of each stage.
            Defaults to (7, 5, 3, 3).
        norm_cfg (dict, optional): Normalisation layer config.
            Defaults to ``dict(type='GN', num_groups=8)``, which works with
            batches of one.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 6,
                 channels: Sequence[int] = (32, 64, 128, 256),
                 kernel_sizes: Sequence[int] = (7, 5, 3, 3),
                 norm_cfg: Optional[ConfigType] = dict(
                     type='GN', num_groups=8),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != len(kernel_sizes):
            raise ValueError(f'channels ({len(channels)}) and kernel_sizes '
                             f'({len(kernel_sizes)}) need one entry per stage')
        layers = []
        for c_out, k in zip(channels, kernel_sizes):
            layers.append(
                ConvModule(
                    in_channels,
                    c_out,
                    k,
                    stride=2,
                    padding=k // 2,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))
            in_channels = c_out
        self.stages = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        """Encode images.

        Args:
            x (Tensor): Images of shape (N, C, H, W).

        Returns:
            tuple[Tensor]: One feature map of shape (N, C', H / 16, W / 16).
        """
        return (self.stages(x), )
