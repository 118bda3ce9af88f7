"""YOLOX head whose training targets are assigned for the whole batch."""
from typing import Dict, Sequence, Tuple

import torch
from mmdet.models.dense_heads import YOLOXHead
from mmdet.registry import MODELS
from mmdet.utils import OptInstanceList, reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor

from ..task_modules import BatchSimOTAAssigner
from ..utils import pad_ground_truth


@MODELS.register_module()
class BatchedYOLOXHead(YOLOXHead):
    """:class:`~mmdet.models.dense_heads.YOLOXHead` with batched SimOTA.

    The stock head assigns targets image by image (a Python loop over the
    batch with many small kernels and host synchronisations). This head pads
    the ground truths of the batch and assigns them with
    :class:`BatchSimOTAAssigner` in a few batched tensor operations. The
    losses have the stock head's values and gradients, but are taken over
    every prior with weight 1 for the positives and 0 for the rest instead
    of over the indexed positives, so that no step of the loss needs a
    value on the host (on a GPU the host queues the whole loss without
    waiting for it). Network, losses, post-processing and checkpoints are
    those of ``YOLOXHead``.

    The batched assigner takes its settings from ``train_cfg.assigner``
    (a ``SimOTAAssigner`` config, as in every YOLOX config), so a stock
    config switches by changing the head ``type`` only.

    Args:
        *args: Positional arguments of :class:`YOLOXHead`.
        **kwargs: Keyword arguments of :class:`YOLOXHead`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.train_cfg:
            cfg = dict(self.train_cfg['assigner'])
            if cfg.pop('type').split('.')[-1] != 'SimOTAAssigner':
                raise ValueError('BatchedYOLOXHead needs a SimOTAAssigner '
                                 f'in train_cfg, got {cfg}')
            iou_calculator = cfg.pop('iou_calculator', None)
            if iou_calculator and iou_calculator.get(
                    'type', '').split('.')[-1] != 'BboxOverlaps2D':
                raise ValueError('BatchedYOLOXHead supports the '
                                 'BboxOverlaps2D IoU only')
            self.batch_assigner = BatchSimOTAAssigner(**cfg)

    def loss_by_feat(self,
                     cls_scores: Sequence[Tensor],
                     bbox_preds: Sequence[Tensor],
                     objectnesses: Sequence[Tensor],
                     batch_gt_instances: Sequence[InstanceData],
                     batch_img_metas: Sequence[dict],
                     batch_gt_instances_ignore: OptInstanceList = None
                     ) -> Dict[str, Tensor]:
        """Compute the YOLOX losses of a batch.

        Args:
            cls_scores (Sequence[Tensor]): Class logits per level, each of
                shape (N, num_classes, H, W).
            bbox_preds (Sequence[Tensor]): Box deltas per level, each of
                shape (N, 4, H, W).
            objectnesses (Sequence[Tensor]): Objectness logits per level,
                each of shape (N, 1, H, W).
            batch_gt_instances (Sequence[InstanceData]): Ground truths of
                each image (``bboxes`` (n, 4), ``labels`` (n, )), or padded
                ones with a bool ``valid`` (n, ) marking the real boxes
                (``DualModalBatchYOLOXAugment(padded_gt=True)``), which are
                used as they are, without a host read (see
                :func:`pad_ground_truth`).
            batch_img_metas (Sequence[dict]): Meta information per image.
            batch_gt_instances_ignore (list, optional): Not supported by
                SimOTA either; must be None or empty.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_bbox``, ``loss_obj`` and,
            with ``use_l1``, ``loss_l1``.
        """
        num_imgs = len(batch_img_metas)
        featmap_sizes = [cls_score.shape[2:] for cls_score in cls_scores]
        mlvl_priors = self.prior_generator.grid_priors(
            featmap_sizes,
            dtype=cls_scores[0].dtype,
            device=cls_scores[0].device,
            with_stride=True)
        flatten_cls_preds = torch.cat([
            x.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
            for x in cls_scores
        ], 1)
        flatten_bbox_preds = torch.cat([
            x.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4) for x in bbox_preds
        ], 1)
        flatten_objectness = torch.cat([
            x.permute(0, 2, 3, 1).reshape(num_imgs, -1) for x in objectnesses
        ], 1)
        flatten_priors = torch.cat(mlvl_priors)
        flatten_bboxes = self._bbox_decode(flatten_priors, flatten_bbox_preds)

        (pos_mask, cls_targets, obj_targets, bbox_targets,
         l1_targets) = self._get_targets_batched(flatten_priors,
                                                 flatten_cls_preds.detach(),
                                                 flatten_bboxes.detach(),
                                                 flatten_objectness.detach(),
                                                 batch_gt_instances)

        num_pos = pos_mask.sum().float()
        num_total_samples = reduce_mean(num_pos).clamp(min=1.0)
        loss_obj = self.loss_obj(flatten_objectness.view(-1, 1),
                                 obj_targets) / num_total_samples
        losses = self._positive_losses(
            pos_mask.view(-1, 1), flatten_cls_preds.view(-1, self.num_classes),
            flatten_bboxes.view(-1, 4), flatten_bbox_preds.view(-1, 4),
            (cls_targets, bbox_targets, l1_targets))
        return dict(
            loss_obj=loss_obj,
            **{
                k: v / num_total_samples
                for k, v in losses.items()
            })

    def _positive_losses(self, fg: Tensor, cls_preds: Tensor, bboxes: Tensor,
                         bbox_preds: Tensor,
                         targets: Tuple[Tensor, Tensor,
                                        Tensor]) -> Dict[str, Tensor]:
        """Class, box and (with ``use_l1``) L1 losses of the positives,
        summed.

        Every prior enters them, weighted 1 if it is a positive and 0 if
        not (the stock head indexes the positives, which needs their number
        on the host). The inputs of the other priors are replaced before
        the losses, so that whatever they predict (e.g. boxes decoded to
        inf), their losses and gradients are exactly zero.

        Args:
            fg (Tensor): (P, 1) bool, the positives among the P = B * A
                priors.
            cls_preds (Tensor): (P, C) class logits.
            bboxes (Tensor): (P, 4) decoded boxes.
            bbox_preds (Tensor): (P, 4) raw box deltas.
            targets (tuple[Tensor]): Class (P, C), box (P, 4) and L1
                (P, 4) targets (see :meth:`_get_targets_batched`).

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_bbox`` and, with
            ``use_l1``, ``loss_l1``, each a scalar sum.
        """
        cls_targets, bbox_targets, l1_targets = targets
        weight = fg.to(cls_preds.dtype)
        loss_cls = self.loss_cls(
            torch.where(fg, cls_preds, 0),
            cls_targets,
            reduction_override='none') * weight
        # the same box for prediction and target: zero IoU loss
        unit = bboxes.new_tensor([0, 0, 1, 1])
        loss_bbox = self.loss_bbox(
            torch.where(fg, bboxes, unit),
            torch.where(fg, bbox_targets, unit),
            reduction_override='none').view(-1, 1) * weight
        losses = dict(loss_cls=loss_cls.sum(), loss_bbox=loss_bbox.sum())
        if self.use_l1:
            loss_l1 = self.loss_l1(
                torch.where(fg, bbox_preds, 0),
                l1_targets,
                reduction_override='none') * weight
            losses['loss_l1'] = loss_l1.sum()
        return losses

    @torch.no_grad()
    def _get_targets_batched(self, priors: Tensor, cls_preds: Tensor,
                             decoded_bboxes: Tensor, objectness: Tensor,
                             batch_gt_instances: Sequence[InstanceData]
                             ) -> tuple:
        """Targets of every prior of every image (see
        ``YOLOXHead._get_targets_single``), without a host synchronisation.

        Args:
            priors (Tensor): (A, 4) as ``(x, y, stride_w, stride_h)``.
            cls_preds (Tensor): (B, A, C) class logits.
            decoded_bboxes (Tensor): (B, A, 4) predicted boxes.
            objectness (Tensor): (B, A) objectness logits.
            batch_gt_instances (Sequence[InstanceData]): Per-image ground
                truths.

        Returns:
            tuple[Tensor]: ``pos_mask`` (B, A) bool and, for the B * A
            priors in row-major order, ``cls_targets`` (B * A, C),
            ``obj_targets`` (B * A, 1), ``bbox_targets`` (B * A, 4) and
            ``l1_targets`` (B * A, 4). The class, box and L1 targets of the
            priors that are not positives are 0 (their losses are weighted
            0).
        """
        B, A = objectness.shape
        gt_bboxes, gt_labels, gt_valid = pad_ground_truth(
            batch_gt_instances, decoded_bboxes.dtype, objectness.device)
        offset_priors = torch.cat(
            [priors[:, :2] + priors[:, 2:] * 0.5, priors[:, 2:]], dim=-1)
        scores = (cls_preds.float().sigmoid() *
                  objectness.float().unsqueeze(-1).sigmoid()).sqrt()
        fg_mask, matched_gt, matched_iou = self.batch_assigner.assign(
            offset_priors, decoded_bboxes, scores, gt_bboxes, gt_labels,
            gt_valid)

        dtype = cls_preds.dtype
        fg = fg_mask.view(-1, 1)
        # the assigned ground truth of every prior (the first slot of its
        # image where it has none: 0 below)
        bbox_targets = gt_bboxes.gather(
            1, matched_gt[..., None].expand(-1, -1, 4)).view(-1, 4)
        labels = gt_labels.gather(1, matched_gt).view(-1)
        # one-hot by comparison: F.one_hot reads the labels' range on the
        # host
        one_hot = labels[:, None] == torch.arange(
            self.num_classes, device=labels.device)
        cls_targets = one_hot.to(dtype) * matched_iou.view(-1, 1).to(dtype)
        obj_targets = fg.to(dtype)
        l1_targets = bbox_targets.new_zeros(bbox_targets.shape)
        if self.use_l1:
            # padded slots are zero boxes: log(0 + eps) stays finite
            l1_targets = self._get_l1_target(
                l1_targets, bbox_targets,
                priors[None].expand(B, -1, -1).reshape(-1, 4))
        return (fg_mask, cls_targets * fg, obj_targets, bbox_targets * fg,
                l1_targets * fg)
