"""Encoder of a camera frame pair into one motion feature vector."""
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class ImagePairEncoder(BaseModule):
    """Stack frames ``t`` and ``t + k`` along channels, run a 2D backbone and
    pool its last feature map into a vector.

    Args:
        backbone (dict): Config of a 2D backbone taking 6 input channels,
            e.g. ``dict(type='mmdet.ResNet', depth=18, in_channels=6,
            out_indices=(3, ))`` or ``dict(type='LightConvNet')``.
        feat_channels (int): Channels of the backbone's last output.
        out_channels (int): Size of the feature vector. Defaults to 256.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 feat_channels: int,
                 out_channels: int = 256,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(feat_channels, out_channels), nn.ReLU(inplace=True))
        self.out_channels = out_channels

    def forward(self, imgs: Tensor) -> Tensor:
        """Encode frame pairs.

        Args:
            imgs (Tensor): Frame pairs of shape (N, 2, 3, H, W).

        Returns:
            Tensor: Features of shape (N, out_channels).
        """
        x = imgs.flatten(1, 2)  # (N, 6, H, W)
        feat = self.backbone(x)[-1]
        return self.fc(self.pool(feat).flatten(1))
