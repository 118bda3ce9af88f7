"""Multi-scale batch resizing that resizes every modality identically."""
import random
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import get_box_tensor
from mmengine.dist import get_dist_info
from mmengine.logging import MessageHub
from torch import Tensor


@MODELS.register_module()
class DualModalBatchSyncRandomResize(BatchSyncRandomResize):
    """:class:`BatchSyncRandomResize` for inputs keyed by modality.

    Every modality is resized to the current random size, so the streams
    stay aligned, and the boxes and meta information are updated exactly
    as YOLOX's multi-scale training does. Two things cost less host time
    than in the stock module, with the same result: the boxes of all
    samples are scaled in one ``torch._foreach_mul_`` (the stock module
    runs four in-place operations per sample), and a single process draws
    the next size on the host (the stock module fills a device tensor and
    reads it back, two host synchronisations, which only a distributed run
    needs, to broadcast it).

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
                (N, C, H, W), all of one size.
            data_samples (list[DetDataSample]): Samples of the batch.

        Returns:
            tuple: The resized inputs, (N, C, H', W') each, and the samples.
        """
        if not isinstance(inputs, dict) or not inputs:
            raise TypeError('DualModalBatchSyncRandomResize expects a '
                            'non-empty dict of (N, C, H, W) tensors')
        first = next(iter(inputs.values()))
        h, w = first.shape[-2:]
        for name, x in inputs.items():
            if x.shape[-2:] != (h, w):
                raise ValueError(
                    f'{name!r} batch {tuple(x.shape)} and the first '
                    f'{tuple(first.shape)} differ in size')
        if self._input_size is None:
            self._input_size = (h, w)
        size = tuple(self._input_size)
        if size != (h, w):
            inputs = {
                name:
                F.interpolate(
                    x, size=size, mode='bilinear', align_corners=False)
                for name, x in inputs.items()
            }
            if data_samples:
                self._rescale(data_samples, size[0] / h, size[1] / w)
        message_hub = MessageHub.get_current_instance()
        if (message_hub.get_info('iter') + 1) % self._interval == 0:
            self._input_size = self._get_random_size(
                aspect_ratio=float(w / h), device=first.device)
        return inputs, data_samples

    def _rescale(self, data_samples: List[DetDataSample], scale_y: float,
                 scale_x: float) -> None:
        """Shapes and boxes of the samples after the resize (in place)."""
        boxes = []
        for ds in data_samples:
            ds.set_metainfo({
                'img_shape': (int(ds.img_shape[0] * scale_y),
                              int(ds.img_shape[1] * scale_x)),
                'pad_shape': (int(ds.pad_shape[0] * scale_y),
                              int(ds.pad_shape[1] * scale_x)),
                'batch_input_shape':
                self._input_size
            })
            for key in ('gt_instances', 'ignored_instances'):
                if key in ds and len(ds.get(key)):
                    boxes.append(get_box_tensor(ds.get(key).bboxes))
        if boxes:
            scale = torch.tensor(
                [scale_x, scale_y] * 2, dtype=boxes[0].dtype).to(
                    boxes[0].device, non_blocking=True)
            torch._foreach_mul_(boxes, [scale] * len(boxes))

    def _get_random_size(self, aspect_ratio: float,
                         device: torch.device) -> Tuple[int, int]:
        """The next random size (drawn as the stock module draws it);
        broadcast from rank 0 in a distributed run."""
        if get_dist_info()[1] > 1:
            return super()._get_random_size(aspect_ratio, device)
        size = random.randint(*self._random_size_range)
        return (self._size_divisor * size,
                self._size_divisor * int(aspect_ratio * size))
