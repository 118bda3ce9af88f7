"""Placeholder encoder for pre-training before the real encoders exist."""
from mmdet3d.registry import MODELS
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn

_DEFAULT_IN_CHANNELS = dict(visual=3, point=4, imu=6)


@MODELS.register_module()
class DummyEncoder(BaseModule):
    """Cheap, trainable stand-in for a modality encoder.

    Global (masked) average pooling of the raw input followed by one linear
    layer.  It has the input signature and ``out_channels`` of the real
    encoder it replaces, so fusion and pose head trained with it keep the
    same parameter shapes and checkpoint keys when the real encoder is
    swapped in for fine-tuning.

    Args:
        modality (str): ``'visual'`` (input (N, 2, 3, H, W)), ``'point'``
            (inputs (N, 2, P, C) and a mask (N, 2, P)) or ``'imu'``
            (inputs (N, L, C) and a mask (N, L)).
        out_channels (int): Size of the feature vector. Defaults to 256.
        in_channels (int, optional): Channels of one image / point / IMU
            sample. Defaults to 3, 4 and 6 respectively.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 modality: str,
                 out_channels: int = 256,
                 in_channels: int = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if modality not in _DEFAULT_IN_CHANNELS:
            raise ValueError(f'modality must be one of '
                             f'{tuple(_DEFAULT_IN_CHANNELS)}, got {modality}')
        self.modality = modality
        self.in_channels = in_channels or _DEFAULT_IN_CHANNELS[modality]
        pooled = self.in_channels * (1 if modality == 'imu' else 2)
        self.linear = nn.Linear(pooled, out_channels)
        self.out_channels = out_channels

    def forward(self, x: Tensor, mask: Tensor = None) -> Tensor:
        """Encode one modality.

        Args:
            x (Tensor): The modality's input, see ``modality``.
            mask (Tensor, optional): Valid points / samples for ``'point'``
                and ``'imu'``.

        Returns:
            Tensor: Features of shape (N, out_channels).
        """
        if x.shape[-1 if self.modality != 'visual' else 2] != \
                self.in_channels:
            raise ValueError(f'{self.modality} input of shape '
                             f'{tuple(x.shape)} does not have '
                             f'{self.in_channels} channels')
        if self.modality == 'visual':
            pooled = x.mean(dim=(-2, -1)).flatten(1)  # (N, 6)
        else:
            m = mask[..., None].to(x.dtype)
            pooled = (x * m).sum(-2) / m.sum(-2).clamp_min(1.0)
            pooled = pooled.flatten(1)
        return self.linear(pooled).relu()
