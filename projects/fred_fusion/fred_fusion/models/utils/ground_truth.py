"""Ground truths of a batch as padded tensors."""
from typing import List, Sequence, Tuple

import torch
from mmdet.structures.bbox import get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor


def _is_padded(batch_gt_instances: Sequence[InstanceData]) -> bool:
    """Whether the ground truths carry a ``valid`` field (every image or
    none; a mix is refused)."""
    padded = ['valid' in gt for gt in batch_gt_instances]
    if any(padded) and not all(padded):
        raise ValueError(
            'a batch mixes padded ground truths (with a `valid` field: '
            f'images {[i for i, p in enumerate(padded) if p]}) and unpadded '
            f'ones (images {[i for i, p in enumerate(padded) if not p]}); '
            'pad every image or none')
    return bool(padded) and all(padded)


def _stack_padded(batch_gt_instances: Sequence[InstanceData],
                  dtype: torch.dtype,
                  device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    """Padded ground truths of one length G > 0, stacked; the boxes and
    labels of the invalid slots set to zero."""
    valid = torch.stack([gt.valid
                         for gt in batch_gt_instances]).to(device, torch.bool)
    boxes = torch.stack([
        get_box_tensor(gt.bboxes).view(-1, 4) for gt in batch_gt_instances
    ]).to(device, dtype)
    labels = torch.stack([gt.labels.view(-1) for gt in batch_gt_instances
                          ]).to(device, torch.long)
    return (torch.where(valid[..., None], boxes,
                        0), torch.where(valid, labels, 0), valid)


def pad_ground_truth(batch_gt_instances: Sequence[InstanceData],
                     dtype: torch.dtype,
                     device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    """The ground truths of a batch as padded tensors, in a few operations
    whatever the batch size (no copy per image, no host synchronisation).

    The ground truths are either unpadded (``n_i`` real boxes each) or all
    padded already, with a bool field ``valid`` (n_i, ) that marks the real
    boxes, as :class:`DualModalBatchYOLOXAugment` gives them with
    ``padded_gt=True``. Padded ground truths of one length G (> 0) are
    stacked as they are (one operation per field); padded ones of several
    lengths are padded further to the longest, their ``valid`` kept.

    Args:
        batch_gt_instances (Sequence[InstanceData]): ``bboxes`` (n_i, 4)
            (a tensor or box structure), ``labels`` (n_i, ) and, if
            padded, ``valid`` (n_i, ) per image.
        dtype (torch.dtype): Dtype of the boxes.
        device (torch.device): Device of the result.

    Returns:
        tuple[Tensor]: Boxes (B, G, 4), labels (B, G) and a bool mask of
        the real entries (B, G), with G = max(n_i, 1); padded slots (and
        the invalid slots of padded inputs) are zero.

    Raises:
        ValueError: If some images have a ``valid`` field and others not.
    """
    padded = _is_padded(batch_gt_instances)
    counts = [len(gt) for gt in batch_gt_instances]
    if padded and len(set(counts)) == 1 and counts[0] > 0:
        return _stack_padded(batch_gt_instances, dtype, device)
    B, G = len(counts), max(counts, default=0) or 1
    # slot of every ground truth in the (B * G) padded rows
    slots = [i * G + j for i, n in enumerate(counts) for j in range(n)]
    slots = torch.tensor(slots, dtype=torch.long).to(device, non_blocking=True)
    boxes = torch.zeros((B * G, 4), dtype=dtype, device=device)
    labels = torch.zeros((B * G, ), dtype=torch.long, device=device)
    valid = torch.zeros((B * G, ), dtype=torch.bool, device=device)
    if slots.numel():
        boxes.index_copy_(0, slots,
                          _cat(batch_gt_instances, 'bboxes', device, dtype))
        labels.index_copy_(
            0, slots, _cat(batch_gt_instances, 'labels', device, torch.long))
        if padded:
            valid.index_copy_(
                0, slots, _cat(batch_gt_instances, 'valid', device,
                               torch.bool))
            boxes = torch.where(valid[:, None], boxes, 0)
            labels = torch.where(valid, labels, 0)
        else:
            valid.index_fill_(0, slots, True)
    return boxes.view(B, G, 4), labels.view(B, G), valid.view(B, G)


def _cat(batch_gt_instances: Sequence[InstanceData], key: str, device,
         dtype: torch.dtype) -> Tensor:
    """One field of every image, concatenated (boxes as (n, 4) rows)."""
    parts: List[Tensor] = []
    for gt in batch_gt_instances:
        value = gt.get(key)
        if key == 'bboxes':
            parts.append(get_box_tensor(value).to(device, dtype).view(-1, 4))
        else:
            parts.append(value.to(device, dtype).view(-1))
    return torch.cat(parts)
