"""The input sizes of multi-scale training (mmdet's batch resizing)."""
from typing import List, Tuple

import torch.nn as nn


def multi_scale_resizers(data_preprocessor: nn.Module) -> List[nn.Module]:
    """Batch augmentations of a data preprocessor that resize the batch to
    a random multiple of a divisor, like mmdet's ``BatchSyncRandomResize``
    (and its subclasses, e.g. ``DualModalBatchSyncRandomResize``).

    Args:
        data_preprocessor (nn.Module): The model's data preprocessor.

    Returns:
        list[nn.Module]: The resizers, in order.
    """
    augments = getattr(data_preprocessor, 'batch_augments', None) or []
    return [
        aug for aug in augments if hasattr(aug, '_random_size_range')
        and hasattr(aug, '_size_divisor') and hasattr(aug, '_input_size')
    ]


def multi_scale_sizes(resizer: nn.Module,
                      aspect_ratio: float = 1.0) -> List[Tuple[int, int]]:
    """Every (H, W) a resizer can choose, as ``BatchSyncRandomResize``
    draws them: ``divisor * s`` high and ``divisor * int(aspect_ratio *
    s)`` wide for each ``s`` of its range.

    Args:
        resizer (nn.Module): A resizer of :func:`multi_scale_resizers`.
        aspect_ratio (float): Width / height of the batches it gets.
            Defaults to 1.0.

    Returns:
        list[tuple[int, int]]: The sizes, smallest first.
    """
    low, high = resizer._random_size_range
    d = resizer._size_divisor
    return [(d * s, d * int(aspect_ratio * s)) for s in range(low, high + 1)]


def count_input_sizes(data_preprocessor: nn.Module) -> int:
    """Number of distinct (H, W) of the training batches: the sizes of the
    multi-scale resizers plus the pipeline's own size, which the batches
    keep until the first resize.

    Args:
        data_preprocessor (nn.Module): The model's data preprocessor.

    Returns:
        int: 1 without multi-scale resizing.
    """
    return 1 + sum(
        len(multi_scale_sizes(r))
        for r in multi_scale_resizers(data_preprocessor))
