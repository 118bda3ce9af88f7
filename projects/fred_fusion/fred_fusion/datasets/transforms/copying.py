"""Copies of result dicts that share the image arrays."""
import copy
from typing import Iterator, Sequence

import numpy as np

#: Keys of the image arrays of a FRED sample.
IMAGE_KEYS = ('img', 'event_img')


def _images(results: dict, keys: Sequence[str]) -> Iterator[np.ndarray]:
    for key in keys:
        if isinstance(results.get(key), np.ndarray):
            yield results[key]
    for partner in results.get('mix_results') or ():
        if isinstance(partner, dict):
            yield from _images(partner, keys)


def copy_results(results: dict, keys: Sequence[str] = IMAGE_KEYS) -> dict:
    """Deep copy of a result dict whose image arrays are shared.

    Everything except the arrays under ``keys`` (in ``results`` and in its
    ``mix_results`` partners) is deep-copied, so transforms that work in
    place on boxes, labels or meta data leave ``results`` intact. The image
    arrays are not copied: stock mmdet geometric transforms (Mosaic,
    RandomAffine, MixUp, RandomFlip, Resize, Pad, RandomCrop) write their
    output into new arrays. A transform that writes into its input image
    (e.g. ``YOLOXHSVRandomAug``, which converts back with ``dst=img``) must
    copy it first, as :class:`RGBOnly` does.

    Args:
        results (dict): Result dict.
        keys (Sequence[str]): Keys of the shared image arrays. Defaults to
            ``('img', 'event_img')``.

    Returns:
        dict: The copy, with the same key order and the same image arrays.
    """
    # deepcopy returns memo entries as they are: pre-seeding the memo with
    # the images shares them and keeps aliasing between other values.
    memo = {id(img): img for img in _images(results, keys)}
    return copy.deepcopy(results, memo)
