"""MLP decoder of a fused feature into a relative pose."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from ...utils.se3 import pose_to_vector
from ..utils import linear_relu_stack, pose_vector_to_matrix


@MODELS.register_module()
class PoseRegressionHead(BaseModule):
    """Regress the relative pose ``T_rel = inv(T_t) @ T_{t+k}``.

    The output is a 6-vector: the translation (x, y, z) in metres in the
    camera-0 frame of ``t``, followed by the rotation as an axis-angle
    vector (the SO(3) log, angle in radians).  Axis-angle is minimal,
    free of singularities for the small inter-frame rotations of driving
    and turned into a matrix with Rodrigues' formula.

    Args:
        in_channels (int): Size of the fused feature.
        hidden_channels (Sequence[int]): Hidden sizes of the MLP.
            Defaults to (256, 128).
        loss_trans (dict): Translation loss, e.g. ``mmdet.L1Loss``,
            ``mmdet.SmoothL1Loss`` or ``mmdet.MSELoss``.
            Defaults to ``dict(type='mmdet.L1Loss', loss_weight=1.0)``.
        loss_rot (dict): Rotation loss on axis-angle vectors:
            ``mmdet.L1Loss`` (or another element-wise loss) or
            ``GeodesicRotationLoss``. Defaults to
            ``dict(type='mmdet.L1Loss', loss_weight=100.0)``; the large
            weight balances radians against metres.
        pose_mean (Sequence[float], optional): Typical pose vector (6, ),
            e.g. the mean motion between two frames of the data; the MLP
            predicts the deviation from it. Defaults to None (zeros).
        pose_std (Sequence[float], optional): Typical spread of each of the
            6 components; the MLP's outputs are scaled by it, so that all
            components start at the same scale. Defaults to None (ones).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: Sequence[int] = (256, 128),
                 loss_trans: ConfigType = dict(
                     type='mmdet.L1Loss', loss_weight=1.0),
                 loss_rot: ConfigType = dict(
                     type='mmdet.L1Loss', loss_weight=100.0),
                 pose_mean: Optional[Sequence[float]] = None,
                 pose_std: Optional[Sequence[float]] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.mlp, c_in = linear_relu_stack(in_channels, hidden_channels)
        self.fc_trans = nn.Linear(c_in, 3)
        self.fc_rot = nn.Linear(c_in, 3)
        self.loss_trans = MODELS.build(loss_trans)
        self.loss_rot = MODELS.build(loss_rot)
        mean = torch.zeros(6) if pose_mean is None else torch.as_tensor(
            pose_mean, dtype=torch.float32)
        std = torch.ones(6) if pose_std is None else torch.as_tensor(
            pose_std, dtype=torch.float32)
        if mean.shape != (6, ) or std.shape != (6, ) or \
                not torch.isfinite(mean).all() or not (std > 0).all():
            raise ValueError('pose_mean and pose_std must be 6 finite '
                             'values (translation, axis-angle), pose_std '
                             f'positive; got {pose_mean} and {pose_std}')
        # configuration, not state: kept out of checkpoints
        self.register_buffer('pose_mean', mean, persistent=False)
        self.register_buffer('pose_std', std, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Decode poses.

        Args:
            x (Tensor): Fused features of shape (N, C).

        Returns:
            Tensor: Pose vectors of shape (N, 6): translation, axis-angle.
        """
        x = self.mlp(x)
        out = torch.cat([self.fc_trans(x), self.fc_rot(x)], dim=1)
        return out * self.pose_std + self.pose_mean

    @staticmethod
    def get_targets(data_samples: List[BaseDataElement],
                    device: torch.device) -> Tensor:
        """Ground-truth pose vectors (N, 6) from ``gt_pose`` (4, 4)."""
        poses = []
        for i, sample in enumerate(data_samples):
            if 'gt_pose' not in sample:
                raise KeyError(f'data sample {i} has no gt_pose')
            T = np.asarray(
                torch.as_tensor(sample.gt_pose).detach().cpu(),
                dtype=np.float64)
            if T.shape != (4, 4) or not np.all(np.isfinite(T)):
                raise ValueError(f'data sample {i}: gt_pose must be a '
                                 f'finite (4, 4) matrix, got {T.shape}')
            poses.append(pose_to_vector(T))
        return torch.as_tensor(
            np.stack(poses), dtype=torch.float32, device=device)

    def loss(self, x: Tensor,
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """Compute the losses.

        Args:
            x (Tensor): Fused features of shape (N, C).
            data_samples (list[BaseDataElement]): Samples with ``gt_pose``.

        Returns:
            dict[str, Tensor]: ``loss_trans`` and ``loss_rot``.
        """
        return self.loss_by_pred(self(x), data_samples)

    def loss_by_pred(self, pred: Tensor,
                     data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """Translation and rotation losses of predicted pose vectors
        (N, 6) against the samples' ``gt_pose``."""
        target = self.get_targets(data_samples, pred.device)
        return dict(
            loss_trans=self.loss_trans(pred[:, :3], target[:, :3]),
            loss_rot=self.loss_rot(pred[:, 3:], target[:, 3:]))

    def predict(self, x: Tensor) -> Tensor:
        """Predict relative poses.

        Args:
            x (Tensor): Fused features of shape (N, C).

        Returns:
            Tensor: Relative poses of shape (N, 4, 4).
        """
        return pose_vector_to_matrix(self(x))
