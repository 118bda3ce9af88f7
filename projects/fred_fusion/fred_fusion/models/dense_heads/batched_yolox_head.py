"""YOLOX head whose training targets are assigned for the whole batch."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import YOLOXHead
from mmdet.registry import MODELS
from mmdet.utils import OptInstanceList, reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor

from ..task_modules import BatchSimOTAAssigner


@MODELS.register_module()
class BatchedYOLOXHead(YOLOXHead):
    """:class:`~mmdet.models.dense_heads.YOLOXHead` with batched SimOTA.

    The stock head assigns targets image by image (a Python loop over the
    batch with many small kernels and host synchronisations). This head pads
    the ground truths of the batch and assigns them with
    :class:`BatchSimOTAAssigner` in a few batched tensor operations; the
    losses are then computed exactly as in the stock head. Network, losses,
    post-processing and checkpoints are those of ``YOLOXHead``.

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
                each image (``bboxes`` (n, 4), ``labels`` (n, )).
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
        pos_mask = pos_mask.view(-1)

        loss_obj = self.loss_obj(flatten_objectness.view(-1, 1),
                                 obj_targets) / num_total_samples
        losses = dict(loss_obj=loss_obj)
        if len(bbox_targets) > 0:
            losses['loss_cls'] = self.loss_cls(
                flatten_cls_preds.view(-1, self.num_classes)[pos_mask],
                cls_targets) / num_total_samples
            losses['loss_bbox'] = self.loss_bbox(
                flatten_bboxes.view(-1, 4)[pos_mask],
                bbox_targets) / num_total_samples
            if self.use_l1:
                losses['loss_l1'] = self.loss_l1(
                    flatten_bbox_preds.view(-1, 4)[pos_mask],
                    l1_targets) / num_total_samples
        else:
            # keep the branches in the graph without positives, as the
            # stock head does
            losses['loss_cls'] = flatten_cls_preds.sum() * 0
            losses['loss_bbox'] = flatten_bboxes.sum() * 0
            if self.use_l1:
                losses['loss_l1'] = flatten_bbox_preds.sum() * 0
        return losses

    @torch.no_grad()
    def _get_targets_batched(self, priors: Tensor, cls_preds: Tensor,
                             decoded_bboxes: Tensor, objectness: Tensor,
                             batch_gt_instances: Sequence[InstanceData]
                             ) -> tuple:
        """Targets of all images (see ``YOLOXHead._get_targets_single``).

        Args:
            priors (Tensor): (A, 4) as ``(x, y, stride_w, stride_h)``.
            cls_preds (Tensor): (B, A, C) class logits.
            decoded_bboxes (Tensor): (B, A, 4) predicted boxes.
            objectness (Tensor): (B, A) objectness logits.
            batch_gt_instances (Sequence[InstanceData]): Per-image ground
                truths.

        Returns:
            tuple[Tensor]: ``pos_mask`` (B, A) bool, ``cls_targets``
            (P, C), ``obj_targets`` (B * A, 1), ``bbox_targets`` (P, 4),
            ``l1_targets`` (P, 4) with P positives in row-major order.
        """
        B, A = objectness.shape
        device = objectness.device
        counts = [len(gt) for gt in batch_gt_instances]
        G = max(counts) if counts else 0
        gt_bboxes = decoded_bboxes.new_zeros((B, G, 4))
        gt_labels = torch.zeros((B, G), dtype=torch.long, device=device)
        gt_valid = torch.zeros((B, G), dtype=torch.bool, device=device)
        for i, gt in enumerate(batch_gt_instances):
            n = counts[i]
            if n:
                gt_bboxes[i, :n] = gt.bboxes
                gt_labels[i, :n] = gt.labels
                gt_valid[i, :n] = True

        offset_priors = torch.cat(
            [priors[:, :2] + priors[:, 2:] * 0.5, priors[:, 2:]], dim=-1)
        scores = (cls_preds.float().sigmoid() *
                  objectness.float().unsqueeze(-1).sigmoid()).sqrt()
        fg_mask, matched_gt, matched_iou = self.batch_assigner.assign(
            offset_priors, decoded_bboxes, scores, gt_bboxes, gt_labels,
            gt_valid)

        pos_gt = matched_gt[fg_mask]  # (P, )
        pos_img = torch.nonzero(fg_mask, as_tuple=True)[0]
        pos_labels = gt_labels[pos_img, pos_gt]
        cls_targets = F.one_hot(pos_labels, self.num_classes).to(
            cls_preds.dtype) * matched_iou[fg_mask].unsqueeze(-1).to(
                cls_preds.dtype)
        obj_targets = fg_mask.to(cls_preds.dtype).view(-1, 1)
        bbox_targets = gt_bboxes[pos_img, pos_gt]
        l1_targets = bbox_targets.new_zeros(bbox_targets.shape)
        if self.use_l1:
            pos_priors = priors[None].expand(B, -1, -1)[fg_mask]
            l1_targets = self._get_l1_target(l1_targets, bbox_targets,
                                             pos_priors)
        return fg_mask, cls_targets, obj_targets, bbox_targets, l1_targets
