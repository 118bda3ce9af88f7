"""Wrappers that apply stock mmdet transforms to RGB + event samples."""
import copy
import random
from typing import Callable, Dict, Optional, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import Pad, RandomAffine, RandomFlip, Resize
from mmdet.registry import TRANSFORMS

from .copying import copy_results

RandomStates = Tuple[tuple, tuple]


def _event_view(results: dict) -> dict:
    """Copy of ``results`` whose ``img`` is the event frame.

    Images are shared (transforms return new arrays), everything else is
    deep-copied because box transforms work in place. Multi-image partners
    (``mix_results``) are turned into event views likewise.
    """
    view = copy_results(results)

    def to_event(sample: dict) -> None:
        sample['img'] = sample.pop('event_img')
        for partner in sample.get('mix_results') or ():
            to_event(partner)

    to_event(view)
    return view


def _drop_events(results: dict) -> None:
    """Remove the event frames of ``results`` and its partners in place.

    The RGB run then neither sees nor copies them (mmdet's Mosaic deep-copies
    the sample and its partners).
    """
    results.pop('event_img', None)
    for partner in results.get('mix_results') or ():
        _drop_events(partner)


def _get_states() -> RandomStates:
    return random.getstate(), np.random.get_state()


def _set_states(states: RandomStates) -> None:
    random.setstate(states[0])
    np.random.set_state(states[1])


class _Redraw:
    """Repeat random draws made from the states before a transform ran.

    Args:
        before (tuple): Python and NumPy random states before the run.
    """

    def __init__(self, before: RandomStates) -> None:
        self.before = before

    def __call__(self, draw: Callable, *args):
        """Call ``draw(*args)`` from the rewound states, then restore them.

        Returns:
            The return value of ``draw``.
        """
        after = _get_states()
        _set_states(self.before)
        try:
            return draw(*args)
        finally:
            _set_states(after)


# A direct event operation gets (RGB transform, event transform, event
# frame, RGB output, redraw) and returns the event frame the event
# transform would produce: the same OpenCV / mmcv call on the same
# geometry (read from the RGB output or redrawn), with the event
# transform's pixel settings (interpolation, border and pad values).
EventOp = Callable[[BaseTransform, BaseTransform, np.ndarray, dict, _Redraw],
                   np.ndarray]


def _resize_event(rgb_t: Resize, event_t: Resize, event: np.ndarray, out: dict,
                  redraw: _Redraw) -> np.ndarray:
    # mmcv.imrescale (keep_ratio) ends in this imresize call as well.
    h, w = out['img'].shape[:2]
    return mmcv.imresize(
        event, (w, h),
        interpolation=event_t.interpolation,
        backend=event_t.backend)


#: ``cv2.flip`` codes of mmcv's flip directions.
_FLIP_CODES = dict(horizontal=1, vertical=0, diagonal=-1)


def _flip_event(rgb_t: RandomFlip, event_t: RandomFlip, event: np.ndarray,
                out: dict, redraw: _Redraw) -> np.ndarray:
    if not out.get('flip'):
        return event
    # The pixels of mmcv.imflip (a reversed NumPy view) in a contiguous
    # array: the next transform would otherwise copy the view, ~50x slower.
    return cv2.flip(event, _FLIP_CODES[out['flip_direction']])


def _pad_event(rgb_t: Pad, event_t: Pad, event: np.ndarray, out: dict,
               redraw: _Redraw) -> np.ndarray:
    # as mmcv's Pad._pad_img, padding to the size the RGB frame got
    pad_val = event_t.pad_val.get('img', 0)
    if isinstance(pad_val, int) and event.ndim == 3:
        pad_val = tuple(pad_val for _ in range(event.shape[2]))
    return mmcv.impad(
        event,
        shape=out['img'].shape[:2],
        pad_val=pad_val,
        padding_mode=event_t.padding_mode)


def _affine_event(rgb_t: RandomAffine, event_t: RandomAffine,
                  event: np.ndarray, out: dict, redraw: _Redraw) -> np.ndarray:
    # RandomAffine records no matrix: draw it again from the same states.
    h, w = out['img'].shape[:2]
    matrix = redraw(rgb_t._get_random_homography_matrix, h, w)
    return cv2.warpPerspective(
        event, matrix, dsize=(w, h), borderValue=event_t.border_val)


#: Transforms (exact types) whose event frame is computed directly.
DIRECT_EVENT_OPS: Dict[type, EventOp] = {
    Resize: _resize_event,
    RandomFlip: _flip_event,
    Pad: _pad_event,
    RandomAffine: _affine_event,
}


@TRANSFORMS.register_module()
class SyncTransform(BaseTransform):
    """Apply one geometric transform identically to RGB, event and boxes.

    The wrapped transform runs on the RGB sample (boxes included). The
    event frame then gets the same geometry in one of two ways:

    - Direct: for the stock ``Resize``, ``RandomFlip``, ``Pad`` and
      ``RandomAffine`` (exact types, see ``DIRECT_EVENT_OPS``) the event
      frame goes through the same OpenCV / mmcv call as the RGB frame, with
      the output size, flip direction or warp matrix of the RGB run (the
      matrix is drawn again from the rewound random states). The result is
      bit-identical to a replay, without running the box work twice.
    - Replay: any other transform (e.g. Mosaic, MixUp, RandomCrop) runs
      once more, with Python's and NumPy's global random states rewound, on
      an event view of the same sample (``img`` = ``event_img``, Mosaic /
      MixUp partners likewise). Stock mmdet transforms draw their
      parameters only from these generators and from image shapes, which
      are equal, so both runs make the same draws; the boxes and shapes of
      the two runs are compared and any difference raises an error rather
      than misaligning the frames.

    This keeps each image 3-channel (mmdet's Mosaic, HSV and OpenCV border
    values assume 3 channels). Single-modality samples (no ``event_img``)
    run the transform once.

    Args:
        transform (dict): Config of the wrapped transform.
        event_overrides (dict, optional): Arguments that differ for the
            event frame and do not change random draws, e.g.
            ``dict(pad_val=dict(img=(52, 37, 30)))`` to pad event frames
            with the event background. Defaults to None.
        always_replay (bool): Replay also the transforms that have a direct
            event operation: the slower reference the direct operations
            are checked against. Defaults to False.
    """

    def __init__(self,
                 transform: dict,
                 event_overrides: Optional[dict] = None,
                 always_replay: bool = False) -> None:
        self.transform_cfg = copy.deepcopy(transform)
        self.transform_type = transform['type']
        self.wrapped = TRANSFORMS.build(transform)
        self.event_wrapped = self.wrapped
        if event_overrides:
            self.event_wrapped = TRANSFORMS.build(
                dict(copy.deepcopy(transform), **event_overrides))
        self.always_replay = always_replay
        self.event_op: Optional[EventOp] = None
        if not always_replay and type(self.event_wrapped) is type(
                self.wrapped):
            self.event_op = DIRECT_EVENT_OPS.get(type(self.wrapped))
        # MultiImageMixDataset looks for ``get_indexes`` to pick partners.
        if hasattr(self.wrapped, 'get_indexes'):
            self.get_indexes = self.wrapped.get_indexes

    def transform(self, results: dict) -> Optional[dict]:
        """Transform the RGB frame, the event frame and the boxes.

        Args:
            results (dict): Result dict with ``img`` (H, W, C) and, for dual
                samples, ``event_img`` (H, W, C).

        Returns:
            dict | None: The transformed results, ``event_img`` with the
            shape of ``img``; None where the wrapped transform returns None
            (e.g. no box left after a crop).
        """
        if 'event_img' not in results:
            return self.wrapped(results)
        if self.event_op is not None:
            return self._direct(results)
        return self._replay(results)

    def _direct(self, results: dict) -> Optional[dict]:
        """Run the transform on RGB and its direct operation on the event."""
        event = results['event_img']
        _drop_events(results)
        redraw = _Redraw(_get_states())
        out = self.wrapped(results)
        if out is None:
            return None
        event = self.event_op(self.wrapped, self.event_wrapped, event, out,
                              redraw)
        self._check_shapes(out['img'], event)
        out['event_img'] = event
        return out

    def _replay(self, results: dict) -> Optional[dict]:
        """Run the transform on RGB, then again on the event view."""
        event_results = _event_view(results)
        _drop_events(results)
        states = _get_states()
        out = self.wrapped(results)
        _set_states(states)
        event_out = self.event_wrapped(event_results)
        if out is None or event_out is None:
            if (out is None) != (event_out is None):
                self._fail('returned None for only one modality')
            return None
        self._check_shapes(out['img'], event_out['img'])
        for key in ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags'):
            if key in out and not self._same(out[key], event_out.get(key)):
                self._fail(f'gave different {key} for the two modalities')
        out['event_img'] = event_out['img']
        return out

    def _check_shapes(self, img: np.ndarray, event: np.ndarray) -> None:
        if img.shape[:2] != event.shape[:2]:
            self._fail(f'gave RGB shape {img.shape[:2]} and event shape '
                       f'{event.shape[:2]}')

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
        return (f'{self.__class__.__name__}(transform={self.wrapped!r}, '
                f'always_replay={self.always_replay})')


@TRANSFORMS.register_module()
class RGBOnly(BaseTransform):
    """Apply a photometric transform to the RGB frame only.

    The event frame (``event_img``, or ``img`` of an event-only sample) is
    never touched; event-only samples pass through unchanged. The wrapped
    transform gets a copy of the RGB frame, so it may write into it (as
    ``YOLOXHSVRandomAug`` does) even where the input array is shared (see
    :func:`copy_results`).

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
        results['img'] = results['img'].copy()
        out = self.wrapped(results)
        if out is not None and out['img'].shape != shape:
            raise RuntimeError(
                f'RGBOnly({self.transform_type}) changed the image shape '
                f'{shape} -> {out["img"].shape}; wrap geometric transforms '
                'in SyncTransform instead')
        return out

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.wrapped!r})'
