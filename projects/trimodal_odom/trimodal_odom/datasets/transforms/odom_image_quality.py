"""Exposure and sharpness statistics of a frame pair: what the camera's
gate of a quality-aware fusion sees."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

#: Names of the statistics of one frame, in the order of the vector.
IMAGE_QUALITY_NAMES = ('brightness', 'contrast', 'dark_fraction',
                       'saturated_fraction', 'sharpness')


def image_quality(img: np.ndarray,
                  dark_level: int = 16,
                  saturated_level: int = 240) -> np.ndarray:
    """Exposure and sharpness of one image, each about in [0, 1].

    - ``brightness``: mean grey level / 255;
    - ``contrast``: standard deviation of the grey levels / 255 * 4 (a
      well-exposed frame is near 0.7-1, a dark one near 0);
    - ``dark_fraction`` / ``saturated_fraction``: pixels at or below
      ``dark_level`` / at or above ``saturated_level`` (under- and
      overexposure);
    - ``sharpness``: ``1 + log10(rms gradient) / 3`` of the grey image in
      [0, 1] units (finite differences; 0 for a flat image; a blur that
      spreads an edge over ``w`` pixels divides the rms gradient by about
      ``sqrt(w)``, whereas the mean absolute gradient would not change).

    Args:
        img (np.ndarray): uint8 image (H, W, 3) (BGR) or (H, W).
        dark_level (int): Grey level of a dark pixel. Defaults to 16.
        saturated_level (int): Grey level of a saturated pixel.
            Defaults to 240.

    Returns:
        np.ndarray: float32 (5, ) in the order of
        :data:`IMAGE_QUALITY_NAMES`.
    """
    if img.ndim == 3:
        # ITU-R BT.601 luma of a BGR image
        grey = img[..., :3].astype(np.float32) @ np.float32(
            [0.114, 0.587, 0.299])
    elif img.ndim == 2:
        grey = img.astype(np.float32)
    else:
        raise ValueError(f'expected an (H, W, 3) or (H, W) image, got '
                         f'shape {img.shape}')
    if min(grey.shape) < 2:
        raise ValueError(f'image of shape {img.shape} is too small')
    g = grey / 255.0
    grad = np.sqrt(0.5 * (np.square(np.diff(g, axis=0)).mean() +
                          np.square(np.diff(g, axis=1)).mean()))
    return np.array([
        g.mean(),
        min(4.0 * g.std(), 1.0),
        (grey <= dark_level).mean(),
        (grey >= saturated_level).mean(),
        max(1.0 + np.log10(max(grad, 1e-3)) / 3.0, 0.0),
    ],
                    dtype=np.float32)


@TRANSFORMS.register_module()
class OdomImageQuality(BaseTransform):
    """Store the exposure and sharpness of both images of a pair
    (:func:`image_quality`), the cue of the camera's gate in
    :class:`QualityGateFusion`: a dark, overexposed or blurred frame is
    told apart from a normal one by these numbers, not necessarily by the
    features of a light CNN.

    Place it after the photometric augmentations (the statistics are of
    the images the network sees). A sample without images is passed
    through.

    Required Keys: ``imgs`` (two uint8 (H, W, 3) images).
    Added Keys: ``img_quality`` (np.ndarray float32 (10, )): the
    statistics of frame ``t``, then those of frame ``t + k``.

    Args:
        dark_level (int): See :func:`image_quality`. Defaults to 16.
        saturated_level (int): See :func:`image_quality`. Defaults to 240.
    """

    def __init__(self,
                 dark_level: int = 16,
                 saturated_level: int = 240) -> None:
        if not 0 <= dark_level < saturated_level <= 255:
            raise ValueError('expected 0 <= dark_level < saturated_level <= '
                             f'255, got {dark_level} and {saturated_level}')
        self.levels: Tuple[int, int] = (int(dark_level), int(saturated_level))

    def transform(self, results: dict) -> dict:
        imgs = results.get('imgs')
        if imgs is None:
            return results
        if len(imgs) != 2:
            raise ValueError(f'{self.__class__.__name__} needs two images, '
                             f'got {len(imgs)}')
        paths = results.get('img_paths') or [None] * len(imgs)
        stats = []
        for img, path in zip(imgs, paths):
            try:
                stats.append(image_quality(img, *self.levels))
            except ValueError as e:
                raise ValueError(f'{self.__class__.__name__}: {path}: {e}')
        results['img_quality'] = np.concatenate(stats)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(dark_level={self.levels[0]}, '
                f'saturated_level={self.levels[1]})')
