"""Per-level fusion of the feature pyramids of several input streams."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.layers import SELayer
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

FUSION_MODES = ('concat', 'add', 'channel_attn')


@MODELS.register_module()
class FusionNeck(BaseModule):
    """Fuse the multi-level features of several streams level by level.

    Every level (e.g. C3, C4, C5 of CSPDarknet) of the ``num_streams``
    streams is fused into one feature map:

    - ``'concat'``: concatenate the streams (``S * C`` channels), then a 1x1
      :class:`ConvModule` compresses to the output channels.
    - ``'add'``: element-wise sum (``C`` channels); a 1x1 ConvModule maps to
      the output channels only when they differ from ``C``.
    - ``'channel_attn'``: concatenate, re-weight the ``S * C`` channels with
      squeeze-and-excitation attention (:class:`mmdet.models.layers.SELayer`)
      and compress with a 1x1 ConvModule as in ``'concat'``.

    The output channels of a level are ``round(S * C * compression_ratio)``
    for every mode, so the default ratio 0.5 of two streams keeps ``C``.
    They are exposed as :attr:`out_channels` so that the following neck can
    be configured from them.

    Args:
        in_channels (Sequence[int]): Channels of each level of one stream.
        mode (str): ``'concat'``, ``'add'`` or ``'channel_attn'``.
            Defaults to ``'concat'``.
        compression_ratio (float): Output channels relative to the
            concatenated channels. Defaults to 0.5.
        num_streams (int): Number of fused streams. Defaults to 2.
        se_ratio (int): Squeeze ratio of the channel attention.
            Defaults to 16.
        norm_cfg (dict): Normalisation of the 1x1 convolutions.
            Defaults to ``dict(type='BN', momentum=0.03, eps=0.001)``.
        act_cfg (dict): Activation of the 1x1 convolutions.
            Defaults to ``dict(type='Swish')``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 mode: str = 'concat',
                 compression_ratio: float = 0.5,
                 num_streams: int = 2,
                 se_ratio: int = 16,
                 norm_cfg: ConfigType = dict(
                     type='BN', momentum=0.03, eps=0.001),
                 act_cfg: ConfigType = dict(type='Swish'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in FUSION_MODES:
            raise ValueError(f'FusionNeck mode must be one of {FUSION_MODES}, '
                             f'got {mode!r}')
        if not compression_ratio > 0:
            raise ValueError('FusionNeck compression_ratio must be > 0, got '
                             f'{compression_ratio}')
        if num_streams < 2:
            raise ValueError('FusionNeck fuses at least 2 streams, got '
                             f'num_streams={num_streams}')
        self.in_channels = list(in_channels)
        self.mode = mode
        self.compression_ratio = compression_ratio
        self.num_streams = num_streams
        self.out_channels = [
            max(1, int(round(num_streams * c * compression_ratio)))
            for c in self.in_channels
        ]

        self.fuse_layers = nn.ModuleList()
        for c, out_c in zip(self.in_channels, self.out_channels):
            joint_c = c if mode == 'add' else num_streams * c
            layers = []
            if mode == 'channel_attn':
                if joint_c < se_ratio:
                    raise ValueError(
                        f'channel_attn needs at least se_ratio={se_ratio} '
                        f'concatenated channels, got {joint_c}')
                layers.append(SELayer(joint_c, ratio=se_ratio))
            if mode != 'add' or out_c != c:
                layers.append(
                    ConvModule(
                        joint_c, out_c, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
            self.fuse_layers.append(nn.Sequential(*layers))

    def forward(self, stream_feats: Sequence[Sequence[Tensor]]
                ) -> Tuple[Tensor, ...]:
        """Fuse the streams level by level.

        Args:
            stream_feats (Sequence[Sequence[Tensor]]): For each stream, its
                features per level, level ``i`` of shape
                (N, in_channels[i], H_i, W_i).

        Returns:
            tuple[Tensor]: Fused features, level ``i`` of shape
            (N, out_channels[i], H_i, W_i).
        """
        self._check_inputs(stream_feats)
        outs = []
        for level, fuse in enumerate(self.fuse_layers):
            feats = [feats[level] for feats in stream_feats]
            if self.mode == 'add':
                joint = torch.stack(feats, dim=0).sum(dim=0)
            else:
                joint = torch.cat(feats, dim=1)
            outs.append(fuse(joint))
        return tuple(outs)

    def _check_inputs(self, stream_feats: Sequence[Sequence[Tensor]]) -> None:
        """Raise an error naming the problem if the inputs do not fit."""
        if len(stream_feats) != self.num_streams:
            raise ValueError(f'FusionNeck expects {self.num_streams} streams, '
                             f'got {len(stream_feats)}')
        for s, feats in enumerate(stream_feats):
            if len(feats) != len(self.in_channels):
                raise ValueError(
                    f'FusionNeck expects {len(self.in_channels)} levels per '
                    f'stream, stream {s} has {len(feats)}')
        for level, c in enumerate(self.in_channels):
            shapes: List[torch.Size] = [
                feats[level].shape for feats in stream_feats
            ]
            for s, shape in enumerate(shapes):
                if len(shape) != 4 or shape[1] != c:
                    raise ValueError(
                        f'FusionNeck level {level}: expected (N, {c}, H, W) '
                        f'features, stream {s} has shape {tuple(shape)}')
            if any(shape != shapes[0] for shape in shapes):
                raise ValueError(
                    f'FusionNeck level {level}: the streams have different '
                    f'shapes {[tuple(s) for s in shapes]}')
