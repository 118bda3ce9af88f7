"""Loading of the RGB and event frames of a FRED sample."""
from typing import Optional

import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

from mmfusion.datasets import ImageDecodeError, decode_image
from ..event_cache import EventCacheReader
from ..fred_data_error import DataProblem, FREDDataError

MODALITIES = ('rgb', 'event', 'dual')


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

    Required Keys:

    - img_path (RGB), event_path
    - modality (optional, used when ``modality`` is None)

    Added Keys:

    - img (np.uint8, (H, W, 3)), event_img (dual only, (H, W, 3))
    - img_shape, ori_shape, modality

    Args:
        modality (str, optional): ``'rgb'``, ``'event'`` or ``'dual'``.
            None reads ``results['modality']`` (set by ``FREDDataset``).
            Defaults to None.
        to_float32 (bool): Convert the frames to float32. Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
        event_cache (bool): Read event frames from the event cache (local
            files only). Defaults to False.
    """

    def __init__(self,
                 modality: Optional[str] = None,
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None,
                 event_cache: bool = False) -> None:
        if modality is not None and modality not in MODALITIES:
            raise ValueError(f'modality must be one of {MODALITIES}, got '
                             f'{modality!r}')
        if event_cache and (backend_args or {}).get('backend',
                                                    'local') != 'local':
            raise ValueError('event_cache reads local files only, got '
                             f'backend_args={backend_args}')
        self.modality = modality
        self.to_float32 = to_float32
        self.backend_args = backend_args
        self.event_cache = event_cache
        self._cache_reader = EventCacheReader() if event_cache else None

    def _load(self, path: str) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except (OSError, FileNotFoundError) as e:
            raise FREDDataError(
                [DataProblem('missing_frame', path, f'cannot read: {e}')])
        try:
            img = decode_image(data)
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
        if modality == 'event':
            results['img'] = self._load_event(results['event_path'])
        else:
            results['img'] = self._load(results['img_path'])
        if modality == 'dual':
            event = self._load_event(results['event_path'])
            if event.shape != results['img'].shape:
                raise FREDDataError([
                    DataProblem(
                        'size_mismatch', results['img_path'],
                        f'RGB frame has shape {results["img"].shape} but '
                        f'event frame {results["event_path"]} has '
                        f'{event.shape}')
                ])
            results['event_img'] = event
        results['modality'] = modality
        results['img_shape'] = results['img'].shape[:2]
        results['ori_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modality={self.modality}, '
                f'to_float32={self.to_float32}, '
                f'backend_args={self.backend_args}, '
                f'event_cache={self.event_cache})')
