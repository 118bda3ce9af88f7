"""GRU encoder of an IMU window."""
import torch
from mmdet3d.registry import MODELS
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence


@MODELS.register_module()
class GRUIMUEncoder(BaseModule):
    """GRU over the valid IMU samples between two frames; the last hidden
    state is projected to the feature vector.

    Args:
        in_channels (int): Channels of an IMU sample (acc xyz, gyro xyz).
            Defaults to 6.
        hidden_channels (int): GRU hidden size. Defaults to 128.
        num_layers (int): GRU layers. Defaults to 2.
        out_channels (int): Size of the feature vector. Defaults to 128.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 6,
                 hidden_channels: int = 128,
                 num_layers: int = 2,
                 out_channels: int = 128,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.gru = nn.GRU(
            in_channels, hidden_channels, num_layers, batch_first=True)
        self.fc = nn.Sequential(
            nn.Linear(hidden_channels, out_channels), nn.ReLU(inplace=True))
        self.out_channels = out_channels

    def forward(self, imu: Tensor, mask: Tensor) -> Tensor:
        """Encode IMU windows.

        Args:
            imu (Tensor): Normalised samples of shape (N, L, C), padded at
                the end.
            mask (Tensor): Valid samples, bool of shape (N, L); the valid
                samples of a window must come first.

        Returns:
            Tensor: Features of shape (N, out_channels); an empty window
            gives zeros.
        """
        if imu.shape[-1] != self.in_channels:
            raise ValueError(f'imu has {imu.shape[-1]} channels, the '
                             f'encoder expects {self.in_channels}')
        lengths = mask.sum(1)
        prefix = torch.arange(mask.shape[1], device=mask.device)[None]
        if not torch.equal(mask, prefix < lengths[:, None]):
            raise ValueError('imu_mask must mark a prefix of each window '
                             '(padding at the end)')
        packed = pack_padded_sequence(
            imu,
            lengths.clamp_min(1).cpu(),
            batch_first=True,
            enforce_sorted=False)
        _, h = self.gru(packed)
        out = self.fc(h[-1])
        return out * (lengths > 0)[:, None].to(out.dtype)
