"""SimOTA label assignment for a whole batch at once."""
from typing import Tuple

import torch
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

INF = 100000.0
EPS = 1.0e-7


@TASK_UTILS.register_module()
class BatchSimOTAAssigner:
    """SimOTA (YOLOX) assignment of a padded batch, without per-image loops.

    Gives the assignment of mmdet's :class:`SimOTAAssigner` image by image
    (same centre prior, costs, dynamic-k and conflict resolution), computed
    as batched tensor operations: ground truths are padded to the largest
    count in the batch and masked. Only exact ties between costs may be
    broken differently (``topk`` order).

    Args:
        center_radius (float): Ground truth centre size (in strides) that
            counts as centre prior. Defaults to 2.5.
        candidate_topk (int): Number of top IoUs summed into dynamic k.
            Defaults to 10.
        iou_weight (float): Weight of the IoU cost. Defaults to 3.0.
        cls_weight (float): Weight of the classification cost.
            Defaults to 1.0.
    """

    def __init__(self,
                 center_radius: float = 2.5,
                 candidate_topk: int = 10,
                 iou_weight: float = 3.0,
                 cls_weight: float = 1.0) -> None:
        self.center_radius = center_radius
        self.candidate_topk = candidate_topk
        self.iou_weight = iou_weight
        self.cls_weight = cls_weight

    @torch.no_grad()
    def assign(self, priors: Tensor, decoded_bboxes: Tensor, scores: Tensor,
               gt_bboxes: Tensor, gt_labels: Tensor,
               gt_valid: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Assign ground truths to priors for every image of the batch.

        Args:
            priors (Tensor): Priors with the 0.5 centre offset applied,
                ``(cx, cy, stride_w, stride_h)``, shape (A, 4).
            decoded_bboxes (Tensor): Predicted boxes (x1, y1, x2, y2),
                shape (B, A, 4).
            scores (Tensor): Joint scores ``sqrt(sigmoid(cls) *
                sigmoid(obj))``, shape (B, A, C).
            gt_bboxes (Tensor): Padded ground-truth boxes, shape (B, G, 4).
            gt_labels (Tensor): Padded labels, shape (B, G).
            gt_valid (Tensor): Bool mask of real (not padded) ground truths,
                shape (B, G).

        Returns:
            tuple[Tensor]:

            - fg_mask (Tensor): Bool, priors assigned a ground truth,
              shape (B, A).
            - matched_gt (Tensor): Index of the assigned ground truth (0 where
              ``fg_mask`` is False), shape (B, A).
            - matched_iou (Tensor): IoU between prediction and its assigned
              ground truth (0 where ``fg_mask`` is False), shape (B, A).
        """
        B, A = decoded_bboxes.shape[:2]
        if gt_bboxes.size(1) == 0:
            zeros = decoded_bboxes.new_zeros((B, A))
            return zeros.bool(), zeros.long(), zeros
        cost, ious = self._cost(priors.float(), decoded_bboxes.float(),
                                scores.float(), gt_bboxes.float(), gt_labels,
                                gt_valid)
        matching = self._match(cost, ious, gt_valid)
        fg_mask = matching.any(dim=2)
        matched_gt = matching.int().argmax(dim=2) * fg_mask
        matched_iou = torch.gather(ious, 2, matched_gt[:, :, None])[..., 0]
        matched_iou = matched_iou * fg_mask
        return fg_mask, matched_gt, matched_iou

    def _cost(self, priors: Tensor, decoded_bboxes: Tensor, scores: Tensor,
              gt_bboxes: Tensor, gt_labels: Tensor,
              gt_valid: Tensor) -> Tuple[Tensor, Tensor]:
        """SimOTA cost (B, A, G) of every prior for every ground truth, inf
        where they can never match, and the IoUs (B, A, G)."""
        A = decoded_bboxes.size(1)
        in_boxes, in_centers = self._center_prior(priors, gt_bboxes)
        in_boxes &= gt_valid[:, None, :]
        in_centers &= gt_valid[:, None, :]
        # priors that lie in any box or any centre region of their image
        valid = (in_boxes | in_centers).any(dim=2)  # (B, A)
        in_both = in_boxes & in_centers  # (B, A, G)

        ious = bbox_overlaps(decoded_bboxes, gt_bboxes)  # (B, A, G)
        ious = ious * (valid[:, :, None] & gt_valid[:, None, :])
        iou_cost = -torch.log(ious + EPS)

        # BCE between the scores and each ground truth's one-hot label,
        # summed over classes: -sum_c log(1 - p_c) + log(1 - p_l) - log(p_l)
        # (logs clamped at -100 like F.binary_cross_entropy).
        log_p = torch.log(scores).clamp(min=-100)
        log_1mp = torch.log1p(-scores).clamp(min=-100)
        labels = gt_labels.long().clamp(min=0)[:, None, :].expand(-1, A, -1)
        cls_cost = (-log_1mp.sum(-1, keepdim=True) +
                    torch.gather(log_1mp, 2, labels) -
                    torch.gather(log_p, 2, labels))

        cost = (
            cls_cost * self.cls_weight + iou_cost * self.iou_weight +
            (~in_both) * INF)
        # priors outside every box/centre of their image, and padded ground
        # truths, can never be matched
        cost = cost.masked_fill(~valid[:, :, None], float('inf'))
        cost = cost.masked_fill(~gt_valid[:, None, :], float('inf'))
        return cost, ious

    def _match(self, cost: Tensor, ious: Tensor, gt_valid: Tensor) -> Tensor:
        """Bool matching (B, A, G): the dynamic-k cheapest priors of each
        ground truth, a prior matched twice keeping its cheapest."""
        B, A, G = cost.shape
        # dynamic k from the top candidate IoUs of each ground truth
        topk = min(self.candidate_topk, A)
        topk_ious = ious.topk(topk, dim=1).values  # (B, topk, G)
        dynamic_ks = topk_ious.sum(1).int().clamp(min=1)  # (B, G)
        dynamic_ks = dynamic_ks * gt_valid

        # the dynamic_k cheapest priors of each ground truth
        k_max = topk  # dynamic_k <= sum of `topk` IoUs <= topk
        cand_cost, cand_idx = cost.topk(k_max, dim=1, largest=False)
        rank = torch.arange(k_max, device=cost.device)[None, :, None]
        take = (rank < dynamic_ks[:, None, :]) & torch.isfinite(cand_cost)
        matching = torch.zeros((B, A, G), dtype=torch.bool, device=cost.device)
        matching.scatter_(1, cand_idx, take)

        # a prior matched to several ground truths keeps the cheapest one
        multiple = matching.sum(2) > 1  # (B, A)
        cheapest = cost.argmin(dim=2)  # (B, A)
        resolved = torch.zeros_like(matching).scatter_(2, cheapest[:, :, None],
                                                       True)
        return torch.where(multiple[:, :, None], resolved, matching)

    def _center_prior(self, priors: Tensor,
                      gt_bboxes: Tensor) -> Tuple[Tensor, Tensor]:
        """Whether prior centres lie in each box and in each box's centre
        region.

        Args:
            priors (Tensor): (A, 4) as ``(cx, cy, stride_w, stride_h)``.
            gt_bboxes (Tensor): (B, G, 4).

        Returns:
            tuple[Tensor]: Bool masks ``in_boxes`` and ``in_centers``, each
            of shape (B, A, G).
        """
        x = priors[None, :, 0, None]
        y = priors[None, :, 1, None]
        sx = priors[None, :, 2, None]
        sy = priors[None, :, 3, None]
        x1, y1, x2, y2 = (gt_bboxes[:, None, :, i] for i in range(4))
        in_boxes = torch.stack([x - x1, y - y1, x2 - x, y2 - y],
                               dim=-1).min(dim=-1).values > 0
        cx = (x1 + x2) / 2.0
        cy = (y1 + y2) / 2.0
        r = self.center_radius
        in_centers = torch.stack([
            x - (cx - r * sx), y - (cy - r * sy), (cx + r * sx) - x,
            (cy + r * sy) - y
        ],
                                 dim=-1).min(dim=-1).values > 0
        return in_boxes, in_centers
