# Copyright (c) OpenMMLab. All rights reserved.
"""Wrappers that apply stock mmdet transforms to RGB + event samples."""
import copy
import random
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

_IMAGE_KEYS = ('img', 'event_img', 'mix_results')


def _event_view(results: dict) -> dict:
    """Copy of ``results`` whose ``img`` is the event frame.

    Images are shared (transforms return new arrays), everything else is
    deep-copied because box transforms work in place.
    """
    view = {
        k: copy.deepcopy(v)
        for k, v in results.items() if k not in _IMAGE_KEYS
    }
    view['img'] = results['event_img']
    if 'mix_results' in results:
        view['mix_results'] = [_event_view(r) for r in results['mix_results']]
    return view


@TRANSFORMS.register_module()
class SyncTransform(BaseTransform):
    """Apply one geometric transform identically to RGB, event and boxes.

    The wrapped transform runs on the RGB sample, then, with Python's and
    NumPy's global random states rewound, once more on an event view of the
    same sample (``img`` = ``event_img``, multi-image partners of Mosaic /
    MixUp likewise). Stock mmdet transforms draw their parameters only from
    these generators and from image shapes, which are equal, so both runs
    make the same draws; the boxes and shapes of the two runs are compared
    and any difference raises an error rather than misaligning the frames.
    This keeps each image 3-channel (mmdet's Mosaic, HSV and OpenCV border
    values assume 3 channels) and works for any transform, including
    Mosaic, RandomAffine, MixUp, RandomFlip, Resize, Pad and RandomCrop.
    Single-modality samples (no ``event_img``) run the transform once.

    Args:
        transform (dict): Config of the wrapped transform.
        event_overrides (dict, optional): Arguments that differ for the
            event frame and do not change random draws, e.g.
            ``dict(pad_val=dict(img=(52, 37, 30)))`` to pad event frames
            with the event background. Defaults to None.
    """

    def __init__(self,
                 transform: dict,
                 event_overrides: Optional[dict] = None) -> None:
        self.transform_cfg = copy.deepcopy(transform)
        self.transform_type = transform['type']
        self.wrapped = TRANSFORMS.build(transform)
        self.event_wrapped = self.wrapped
        if event_overrides:
            self.event_wrapped = TRANSFORMS.build(
                dict(copy.deepcopy(transform), **event_overrides))
        # MultiImageMixDataset looks for ``get_indexes`` to pick partners.
        if hasattr(self.wrapped, 'get_indexes'):
            self.get_indexes = self.wrapped.get_indexes

    def transform(self, results: dict) -> Optional[dict]:
        """Transform the RGB frame, the event frame and the boxes.

        Args:
            results (dict): Result dict with ``img`` and, for dual samples,
                ``event_img``.

        Returns:
            dict | None: The transformed results; None where the wrapped
            transform returns None (e.g. no box left after a crop).
        """
        if 'event_img' not in results:
            return self.wrapped(results)
        event_results = _event_view(results)
        py_state, np_state = random.getstate(), np.random.get_state()
        out = self.wrapped(results)
        random.setstate(py_state)
        np.random.set_state(np_state)
        event_out = self.event_wrapped(event_results)
        if out is None or event_out is None:
            if (out is None) != (event_out is None):
                self._fail('returned None for only one modality')
            return None
        if out['img'].shape[:2] != event_out['img'].shape[:2]:
            self._fail(f'gave RGB shape {out["img"].shape[:2]} and event '
                       f'shape {event_out["img"].shape[:2]}')
        for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags'):
            if key in out and not self._same(out[key], event_out.get(key)):
                self._fail(f'gave different {key} for the two modalities')
        out['event_img'] = event_out['img']
        return out

    @staticmethod
    def _same(a, b) -> bool:
        if b is None:
            return False
        a = getattr(a, 'tensor', a)
        b = getattr(b, 'tensor', b)
        if isinstance(a, torch.Tensor):
            return a.shape == b.shape and bool(torch.equal(a, b))
        return np.array_equal(a, b)

    def _fail(self, what: str) -> None:
        raise RuntimeError(
            f'SyncTransform({self.transform_type}) {what}: the transform '
            'depends on more than image shapes and the Python / NumPy '
            'random generators, so it cannot be synchronised')

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.wrapped!r})'


@TRANSFORMS.register_module()
class RGBOnly(BaseTransform):
    """Apply a photometric transform to the RGB frame only.

    The event frame (``event_img``, or ``img`` of an event-only sample) is
    never touched; event-only samples pass through unchanged.

    Args:
        transform (dict): Config of the wrapped transform, e.g.
            ``dict(type='YOLOXHSVRandomAug')``. It must not change the image
            shape or the boxes.
    """

    def __init__(self, transform: dict) -> None:
        self.transform_type = transform['type']
        self.wrapped = TRANSFORMS.build(transform)

    def transform(self, results: dict) -> Optional[dict]:
        """Transform the RGB frame.

        Args:
            results (dict): Result dict.

        Returns:
            dict | None: The result dict.
        """
        if results.get('modality', 'rgb') == 'event':
            return results
        shape = results['img'].shape
        out = self.wrapped(results)
        if out is not None and out['img'].shape != shape:
            raise RuntimeError(
                f'RGBOnly({self.transform_type}) changed the image shape '
                f'{shape} -> {out["img"].shape}; wrap geometric transforms '
                'in SyncTransform instead')
        return out

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.wrapped!r})'
