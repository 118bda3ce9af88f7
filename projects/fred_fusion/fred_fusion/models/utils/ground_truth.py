"""Ground truths of a batch as padded tensors."""
from typing import Sequence, Tuple

import torch
from mmdet.structures.bbox import get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor


def pad_ground_truth(batch_gt_instances: Sequence[InstanceData],
                     dtype: torch.dtype,
                     device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    """The ground truths of a batch as padded tensors, in a few operations
    whatever the batch size (no copy per image, no host synchronisation).

    Args:
        batch_gt_instances (Sequence[InstanceData]): ``bboxes`` (n_i, 4)
            (a tensor or box structure) and ``labels`` (n_i, ) per image.
        dtype (torch.dtype): Dtype of the boxes.
        device (torch.device): Device of the result.

    Returns:
        tuple[Tensor]: Boxes (B, G, 4), labels (B, G) and a bool mask of
        the real entries (B, G), with G = max(n_i, 1); padded slots are
        zero.
    """
    counts = [len(gt) for gt in batch_gt_instances]
    B, G = len(counts), max(counts, default=0) or 1
    # slot of every real ground truth in the (B * G) padded rows
    slots = [i * G + j for i, n in enumerate(counts) for j in range(n)]
    slots = torch.tensor(slots, dtype=torch.long).to(device, non_blocking=True)
    boxes = torch.zeros((B * G, 4), dtype=dtype, device=device)
    labels = torch.zeros((B * G, ), dtype=torch.long, device=device)
    valid = torch.zeros((B * G, ), dtype=torch.bool, device=device)
    if slots.numel():
        boxes.index_copy_(
            0, slots,
            torch.cat([
                get_box_tensor(gt.bboxes).to(device, dtype).view(-1, 4)
                for gt in batch_gt_instances
            ]))
        labels.index_copy_(
            0, slots,
            torch.cat([
                gt.labels.to(device, torch.long).view(-1)
                for gt in batch_gt_instances
            ]))
        valid.index_fill_(0, slots, True)
    return boxes.view(B, G, 4), labels.view(B, G), valid.view(B, G)
