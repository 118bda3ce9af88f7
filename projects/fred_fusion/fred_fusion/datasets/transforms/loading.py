"""Loading of the RGB and event frames of a FRED sample."""
import math
from typing import Optional, Tuple

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

from mmfusion.datasets import ImageDecodeError, decode_image
from ..event_cache import EventCacheReader
from ..fred_data_error import DataProblem, FREDDataError

MODALITIES = ('rgb', 'event', 'dual')
Size = Tuple[int, int]


def fit_size(size: Size, scale_to: Size) -> Size:
    """Size (w, h) of an image ``size`` (w, h) resized to fit ``scale_to``
    (w, h) with its aspect ratio: ``Mosaic``'s and ``MixUp``'s tile size,
    ``int(w * min(W / w, H / h))``."""
    w, h = size
    ratio = min(scale_to[0] / w, scale_to[1] / h)
    return int(w * ratio), int(h * ratio)


@TRANSFORMS.register_module()
class LoadFREDImages(BaseTransform):
    """Load the frames a modality needs: RGB jpg and/or event png.

    Both frames are decoded in BGR order, as by ``LoadImageFromFile``, and
    strictly (:func:`mmfusion.datasets.decode_image`): a truncated,
    zeroed or garbled frame is an error naming the file, never an image
    with damaged pixels. The first modality's frame goes to ``img`` (RGB
    for ``'rgb'`` / ``'dual'``, event for ``'event'``), so that every stock
    mmdet transform works on it; in ``'dual'`` mode the event frame goes to
    ``event_img``.

    With ``scale_to`` the frames are loaded at the size training needs (the
    data path of ``DualModalBatchYOLOXAugment``): the frame resized to fit
    ``scale_to`` with its aspect ratio (:func:`fit_size`: 1280x720 ->
    640x360 for (640, 640)), the size Mosaic and MixUp would resize it to.
    A JPEG is decoded directly at the smallest of 1/2, 1/4, 1/8 of its size
    (libjpeg's DCT-domain scaling) that is not smaller than that, using the
    ``width`` / ``height`` of the annotation, then resized exactly if
    needed; the event frame (cache or PNG) is resized to the same size.
    Resizing is bilinear (``cv2.INTER_LINEAR``), as ``mmcv.imresize`` in
    Mosaic. The boxes (``gt_bboxes``, so ``LoadAnnotations`` must run
    first) are scaled with the frame; ``ori_shape`` keeps the frame's size
    and ``scale_factor`` is the (w, h) ratio.

    Required Keys:

    - img_path (RGB), event_path
    - modality (optional, used when ``modality`` is None)

    Added Keys:

    - img (np.uint8, (H, W, 3)), event_img (dual only, (H, W, 3))
    - img_shape, ori_shape, modality
    - scale_factor (with ``scale_to``)

    Modified Keys:

    - gt_bboxes (with ``scale_to``)

    Args:
        modality (str, optional): ``'rgb'``, ``'event'`` or ``'dual'``.
            None reads ``results['modality']`` (set by ``FREDDataset``).
            Defaults to None.
        to_float32 (bool): Convert the frames to float32. Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
        event_cache (bool): Read event frames from the event cache (local
            files only). Defaults to False.
        scale_to (tuple[int, int], optional): (w, h) to fit the frames in,
            see above. Defaults to None (frames as stored).
    """

    def __init__(self,
                 modality: Optional[str] = None,
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None,
                 event_cache: bool = False,
                 scale_to: Optional[Size] = None) -> None:
        if modality is not None and modality not in MODALITIES:
            raise ValueError(f'modality must be one of {MODALITIES}, got '
                             f'{modality!r}')
        if event_cache and (backend_args or {}).get('backend',
                                                    'local') != 'local':
            raise ValueError('event_cache reads local files only, got '
                             f'backend_args={backend_args}')
        if scale_to is not None and (len(scale_to) != 2 or min(scale_to) < 1):
            raise ValueError('scale_to must be (width, height) in pixels, '
                             f'got {scale_to!r}')
        self.modality = modality
        self.scale_to = tuple(scale_to) if scale_to is not None else None
        self.to_float32 = to_float32
        self.backend_args = backend_args
        self.event_cache = event_cache
        self._cache_reader = EventCacheReader() if event_cache else None

    def _load(self, path: str, reduction: int = 1) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except (OSError, FileNotFoundError) as e:
            raise FREDDataError(
                [DataProblem('missing_frame', path, f'cannot read: {e}')])
        try:
            # JPEGs reduced while decoding (libjpeg's DCT scaling)
            img = decode_image(data, scale=reduction)
        except ImageDecodeError as e:
            raise FREDDataError([
                DataProblem(
                    'unreadable_frame', path,
                    f'cannot decode the image ({e}; {len(data)} bytes)')
            ]) from None
        return img.astype(np.float32) if self.to_float32 else img

    def _load_event(self, path: str) -> np.ndarray:
        if self._cache_reader is not None:
            img = self._cache_reader.load(path)
            if img is not None:
                return img.astype(np.float32) if self.to_float32 else img
        return self._load(path)

    def transform(self, results: dict) -> dict:
        """Load the frames.

        Args:
            results (dict): Result dict from the dataset.

        Returns:
            dict: The result dict with the frames added.
        """
        modality = self.modality or results.get('modality', 'dual')
        if modality not in MODALITIES:
            raise ValueError(f'modality must be one of {MODALITIES}, got '
                             f'{modality!r}')
        if self.scale_to is not None:
            return self._load_scaled(results, modality)
        if modality == 'event':
            results['img'] = self._load_event(results['event_path'])
        else:
            results['img'] = self._load(results['img_path'])
        if modality == 'dual':
            event = self._load_event(results['event_path'])
            self._check_event_size(results, event, results['img'].shape)
            results['event_img'] = event
        results['modality'] = modality
        results['img_shape'] = results['img'].shape[:2]
        results['ori_shape'] = results['img'].shape[:2]
        return results

    @staticmethod
    def _check_event_size(results: dict, event: np.ndarray,
                          rgb_shape: tuple) -> None:
        if event.shape != tuple(rgb_shape):
            raise FREDDataError([
                DataProblem(
                    'size_mismatch', results['img_path'],
                    f'RGB frame has shape {tuple(rgb_shape)} but event '
                    f'frame {results["event_path"]} has {event.shape}')
            ])

    def _load_scaled(self, results: dict, modality: str) -> dict:
        """Load the frames at the size that fits ``scale_to``."""
        if 'gt_bboxes' not in results and results.get('instances'):
            raise ValueError(
                'LoadFREDImages(scale_to=...) scales the boxes with the '
                'frames: put LoadAnnotations before it in the pipeline')
        known = 'width' in results and 'height' in results
        if modality == 'event':
            img = self._load_event(results['event_path'])
            ori = img.shape
        else:
            path = results['img_path']
            reduction = 1
            if known and path.lower().endswith(('.jpg', '.jpeg')):
                reduction = self._reduction(results['width'],
                                            results['height'])
            img = self._load(path, reduction)
            ori = img.shape
            if known:
                ori = (results['height'], results['width'], img.shape[2])
                expected = (math.ceil(ori[0] / reduction),
                            math.ceil(ori[1] / reduction))
                if img.shape[:2] != expected:
                    raise FREDDataError([
                        DataProblem(
                            'size_mismatch', path,
                            f'the annotation gives {ori[1]}x{ori[0]}, the '
                            f'frame decodes to {img.shape[1]}x'
                            f'{img.shape[0]} at 1/{reduction}')
                    ])
        w, h = fit_size((ori[1], ori[0]), self.scale_to)
        results['img'] = self._resize(img, (w, h))
        if modality == 'dual':
            event = self._load_event(results['event_path'])
            self._check_event_size(results, event, ori)
            results['event_img'] = self._resize(event, (w, h))
        scale = (w / ori[1], h / ori[0])
        if results.get('gt_bboxes') is not None:
            boxes = results['gt_bboxes']
            if hasattr(boxes, 'rescale_'):
                boxes.rescale_(scale)
            else:
                results['gt_bboxes'] = boxes * np.tile(scale, 2).astype(
                    boxes.dtype)
        results['modality'] = modality
        results['img_shape'] = (h, w)
        results['ori_shape'] = tuple(ori[:2])
        results['scale_factor'] = scale
        return results

    def _reduction(self, width: int, height: int) -> int:
        """Largest JPEG reduction whose frame still covers the fit size."""
        w, h = fit_size((width, height), self.scale_to)
        for k in (8, 4, 2):
            if math.ceil(width / k) >= w and math.ceil(height / k) >= h:
                return k
        return 1

    def _resize(self, img: np.ndarray, size: Size) -> np.ndarray:
        if img.shape[1::-1] != tuple(size):
            img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
        return img.astype(np.float32) if self.to_float32 else img

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modality={self.modality}, '
                f'to_float32={self.to_float32}, '
                f'backend_args={self.backend_args}, '
                f'event_cache={self.event_cache}, '
                f'scale_to={self.scale_to})')
