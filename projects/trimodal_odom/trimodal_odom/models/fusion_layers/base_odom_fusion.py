"""Common part of the odometry fusion modules: masking and dropout."""
from abc import abstractmethod
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmdet3d.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor, nn


class BaseOdomFusion(BaseModule):
    """Base class of the fusion of per-modality feature vectors.

    Features of modalities that are absent (``modality_mask`` False) are
    zeroed before fusion, and the mask itself is given to the fusion, so a
    sample without IMU (KITTI sequence 03) is handled at test time.  In
    training, modality dropout zeroes a whole modality of a sample at
    random, which teaches the fusion to cope with missing sensors.

    Args:
        modalities (Sequence[str]): Names of the fused modalities, in the
            order of the features, e.g. ``('visual', 'point', 'imu')``.
        in_channels (Sequence[int]): Size of each modality's feature.
        modality_dropout (float): Probability to drop each present
            modality of a training sample; at least one present modality
            of a sample is always kept. Defaults to 0.
        dropout (float): Element-wise dropout on the fused feature.
            Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 in_channels: Sequence[int],
                 modality_dropout: float = 0.0,
                 dropout: float = 0.0,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(modalities) != len(in_channels):
            raise ValueError(f'{len(modalities)} modalities but '
                             f'{len(in_channels)} in_channels')
        if not 0.0 <= modality_dropout < 1.0:
            raise ValueError(
                f'modality_dropout must be in [0, 1), got {modality_dropout}')
        self.modalities = tuple(modalities)
        self.in_channels = tuple(in_channels)
        self.modality_dropout = modality_dropout
        self.dropout = nn.Dropout(dropout)

    def drop_modalities(self, mask: Tensor) -> Tensor:
        """Drop present modalities at random, keeping one per sample.

        Each present modality is dropped with probability
        ``modality_dropout``; a sample that would lose all of them keeps
        one, chosen at random.

        Args:
            mask (Tensor): Present modalities, bool of shape (N, M).

        Returns:
            Tensor: The mask with the dropped modalities set to False.
        """
        drop = (torch.rand(mask.shape, device=mask.device)
                < self.modality_dropout) & mask
        kept = mask & ~drop
        # Samples that would lose everything keep one random modality.
        lost = ~kept.any(1) & mask.any(1)
        if lost.any():
            score = torch.rand(mask[lost].shape, device=mask.device)
            pick = (score * mask[lost]).argmax(1)
            kept[lost.nonzero().flatten(), pick] = True
        return kept

    #: Size of the registration-quality vector the fusion reads (0: none).
    quality_channels = 0
    #: Size of the image-quality vector the fusion reads (0: none).
    image_quality_channels = 0
    #: Per quality input: the attribute of its size, what it is in words
    #: and the pipeline step that stores it.
    QUALITY_INPUTS = dict(
        reg_quality=('quality_channels', 'registration quality',
                     'OdomScanRegistration(quality=True)'),
        img_quality=('image_quality_channels', 'image quality',
                     'OdomImageQuality'))

    def forward(
        self,
        feats: List[Tensor],
        mask: Tensor,
        return_gates: bool = False,
        reg_quality: Optional[Tensor] = None,
        img_quality: Optional[Tensor] = None
    ) -> Union[Tensor, Tuple[Tensor, Optional[Tensor]]]:
        """Fuse features.

        Args:
            feats (list[Tensor]): One (N, C_i) feature per modality.
            mask (Tensor): Present modalities, bool of shape (N, M).
            return_gates (bool): Also return :meth:`modality_gates`.
                Defaults to False.
            reg_quality (Tensor, optional): Registration quality (N, Q),
                required by a fusion with ``quality_channels`` = Q > 0 and
                refused by others. Defaults to None.
            img_quality (Tensor, optional): Image quality of the frame
                pair (N, Q_img), required by a fusion with
                ``image_quality_channels`` = Q_img > 0 and refused by
                others. Defaults to None.

        Returns:
            Tensor | tuple: Fused feature of shape (N, out_channels); with
            ``return_gates`` also the gates (N, M) or None.
        """
        if len(feats) != len(self.modalities):
            raise ValueError(f'expected {len(self.modalities)} features '
                             f'({self.modalities}), got {len(feats)}')
        extra = self._quality_kwargs(
            feats[0].shape[0],
            reg_quality=reg_quality,
            img_quality=img_quality)
        if self.training and self.modality_dropout > 0:
            mask = self.drop_modalities(mask)
        feats = [
            f * m[:, None].to(f.dtype) for f, m in zip(feats, mask.unbind(1))
        ]
        mask = mask.to(feats[0].dtype)
        fused = self.dropout(self.fuse(feats, mask, **extra))
        if not return_gates:
            return fused
        return fused, self.modality_gates(feats, mask, **extra)

    def _quality_kwargs(self, n: int, **given: Optional[Tensor]) -> dict:
        """The quality inputs ``given`` (:data:`QUALITY_INPUTS`) checked
        against the sizes the fusion reads, as the keyword arguments of
        :meth:`fuse` and :meth:`modality_gates` (those it reads)."""
        kwargs = {}
        for key, value in given.items():
            attr, what, source = self.QUALITY_INPUTS[key]
            size = getattr(self, attr)
            if not size:
                if value is not None:
                    raise ValueError(f'{self.__class__.__name__} reads no '
                                     f'{what}, got {key}')
                continue
            if value is None:
                raise ValueError(
                    f'{self.__class__.__name__} with {attr}={size} needs '
                    f'{key} (N, {size}): {source} in the pipeline and the '
                    'data samples given')
            if tuple(value.shape) != (n, size):
                raise ValueError(f'{key} must be ({n}, {size}), got '
                                 f'{tuple(value.shape)}')
            kwargs[key] = value
        return kwargs

    def modality_gates(self, feats: List[Tensor],
                       mask: Tensor) -> Optional[Tensor]:
        """Weight of each modality in the fusion of each sample, for
        reading and plotting: the mean gate over the modality's channels
        times its mask (0 for an absent or dropped modality, 1 for one
        passed ungated), each in [0, 1].

        Args:
            feats (list[Tensor]): Masked features (N, C_i).
            mask (Tensor): Float mask (N, M).

        Returns:
            Tensor | None: (N, M), or None for a fusion without gates.
        """
        return None

    @abstractmethod
    def fuse(self, feats: List[Tensor], mask: Tensor) -> Tensor:
        """Fuse masked features (N, C_i) given the float mask (N, M)."""
