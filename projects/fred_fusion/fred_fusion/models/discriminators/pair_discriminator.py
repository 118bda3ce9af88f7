"""Classifier of true versus mismatched RGB / event pairs."""
from typing import Dict, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class PairDiscriminator(BaseModule):
    """Pairing-quality discriminator on globally pooled stream features.

    The features of the two streams (e.g. the C5 maps of the RGB and event
    backbones) are average-pooled, concatenated and classified by a small
    MLP into "true pair" (logit > 0) or "mismatched".  In training, the
    positives are the pairs of the batch and the negatives pair every RGB
    feature with the event feature of the next sample (rolled by one inside
    the batch); a sample whose ``paired`` meta information is False counts
    as a negative also in its own pair.  A batch of one sample has no
    negative: the loss is then skipped (zero, logged once).

    Args:
        in_channels (int): Channels of each stream's feature map.
        feat_channels (int): Hidden width of the MLP. Defaults to 128.
        loss_pair (dict): Binary classification loss. Defaults to a
            sigmoid ``CrossEntropyLoss`` with ``loss_weight=0.1``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 feat_channels: int = 128,
                 loss_pair: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     loss_weight=0.1),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.mlp = nn.Sequential(
            nn.Linear(2 * in_channels, feat_channels), nn.ReLU(inplace=True),
            nn.Linear(feat_channels, 1))
        self.loss_pair = MODELS.build(loss_pair)
        self._warned_single = False

    def forward(self, feat_a: Tensor, feat_b: Tensor) -> Tensor:
        """Pairing logits.

        Args:
            feat_a (Tensor): First stream's features, (N, C, H, W).
            feat_b (Tensor): Second stream's features, (N, C, H', W').

        Returns:
            Tensor: Logits of being a true pair, shape (N, ).
        """
        for name, feat in (('first', feat_a), ('second', feat_b)):
            if feat.dim() != 4 or feat.size(1) != self.in_channels:
                raise ValueError(
                    f'PairDiscriminator expects (N, {self.in_channels}, H, W) '
                    f'features, the {name} stream has {tuple(feat.shape)}')
        if feat_a.size(0) != feat_b.size(0):
            raise ValueError('PairDiscriminator: batch sizes differ, '
                             f'{feat_a.size(0)} vs {feat_b.size(0)}')
        pooled = torch.cat([
            F.adaptive_avg_pool2d(feat_a, 1).flatten(1),
            F.adaptive_avg_pool2d(feat_b, 1).flatten(1)
        ],
                           dim=1)
        return self.mlp(pooled).squeeze(1)

    def loss(self, feat_a: Tensor, feat_b: Tensor,
             batch_data_samples: Sequence[DetDataSample]) -> Dict[str, Tensor]:
        """Discriminator loss and accuracy of a batch.

        Args:
            feat_a (Tensor): First stream's features, (N, C, H, W).
            feat_b (Tensor): Second stream's features, (N, C, H', W').
            batch_data_samples (Sequence[DetDataSample]): Samples of the
                batch; the optional meta information ``paired`` marks frames
                whose streams are not a true pair.

        Returns:
            dict[str, Tensor]: ``loss_pair`` and, with negatives, the
            accuracy ``pair_acc``.
        """
        pos_logits = self(feat_a, feat_b)
        if pos_logits.numel() < 2:
            if not self._warned_single:
                print_log(
                    'PairDiscriminator: a batch of one sample has no '
                    'mismatched pair, loss_pair is skipped for such batches',
                    logger='current')
                self._warned_single = True
            # zero loss that keeps the parameters in the graph (DDP)
            return dict(loss_pair=pos_logits.sum() * 0)
        pos_labels = pos_logits.new_tensor([
            float(bool(s.metainfo.get('paired', True)))
            for s in batch_data_samples
        ])
        neg_logits = self(feat_a, feat_b.roll(1, dims=0))
        logits = torch.cat([pos_logits, neg_logits])
        labels = torch.cat([pos_labels, torch.zeros_like(neg_logits)])
        loss = self.loss_pair(logits[:, None], labels[:, None])
        with torch.no_grad():
            acc = ((logits > 0).float() == labels).float().mean()
        return dict(loss_pair=loss, pair_acc=acc)

    def predict(self, feat_a: Tensor, feat_b: Tensor) -> Tensor:
        """Pairing scores.

        Args:
            feat_a (Tensor): First stream's features, (N, C, H, W).
            feat_b (Tensor): Second stream's features, (N, C, H', W').

        Returns:
            Tensor: Probability of being a true pair, shape (N, ).
        """
        return self(feat_a, feat_b).sigmoid()
