"""Multi-scale batch resizing that resizes every modality identically."""
from typing import Dict, List, Optional, Tuple

import torch.nn.functional as F
from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from torch import Tensor


@MODELS.register_module()
class DualModalBatchSyncRandomResize(BatchSyncRandomResize):
    """:class:`BatchSyncRandomResize` for inputs keyed by modality.

    The first modality is resized (and the boxes and meta information
    updated) exactly as YOLOX's multi-scale training does; every other
    modality is resized to the same size, so the streams stay aligned.

    Args:
        random_size_range (tuple[int, int]): Range of the random size.
        interval (int): Iterations between two size changes.
            Defaults to 10.
        size_divisor (int): Sizes are multiples of it. Defaults to 32.
    """

    def forward(
        self, inputs: Dict[str,
                           Tensor], data_samples: Optional[List[DetDataSample]]
    ) -> Tuple[Dict[str, Tensor], Optional[List[DetDataSample]]]:
        """Resize every modality of the batch to the current random size.

        Args:
            inputs (dict[str, Tensor]): Batches keyed by modality, each
                (N, C, H, W).
            data_samples (list[DetDataSample]): Samples of the batch.

        Returns:
            tuple: The resized inputs, (N, C, H', W') each, and the samples.
        """
        if not isinstance(inputs, dict) or not inputs:
            raise TypeError('DualModalBatchSyncRandomResize expects a '
                            'non-empty dict of (N, C, H, W) tensors')
        names = list(inputs)
        first, data_samples = super().forward(inputs[names[0]], data_samples)
        out = {names[0]: first}
        size = first.shape[-2:]
        for name in names[1:]:
            x = inputs[name]
            if x.shape[-2:] != size:
                x = F.interpolate(
                    x, size=size, mode='bilinear', align_corners=False)
            out[name] = x
        return out, data_samples
