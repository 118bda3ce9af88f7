"""Augmentations of polarity-coded event frames."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

# FRED event frames in BGR: dark background, blue OFF, white ON events.
EVENT_BACKGROUND = (52, 37, 30)
EVENT_OFF = (200, 126, 64)
EVENT_ON = (255, 255, 255)


def _event_key(results: dict) -> Optional[str]:
    modality = results.get('modality', 'rgb')
    return {'event': 'img', 'dual': 'event_img'}.get(modality)


def _color_mask(img: np.ndarray, color: Sequence[int],
                tolerance: int) -> np.ndarray:
    diff = np.abs(img.astype(np.int16) - np.asarray(color, np.int16))
    return diff.max(axis=-1) <= tolerance


class _EventTransform(BaseTransform):
    """Base of transforms that touch only the event frame.

    Args:
        prob (float): Probability of applying the transform. Defaults to
            0.5.
        on_color, off_color, background (Sequence[int]): BGR colours of ON
            events, OFF events and the background.
        tolerance (int): Largest per-channel difference of a pixel from a
            colour to count as that colour. Defaults to 40.
    """

    def __init__(self,
                 prob: float = 0.5,
                 on_color: Sequence[int] = EVENT_ON,
                 off_color: Sequence[int] = EVENT_OFF,
                 background: Sequence[int] = EVENT_BACKGROUND,
                 tolerance: int = 40) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.on_color = tuple(on_color)
        self.off_color = tuple(off_color)
        self.background = tuple(background)
        self.tolerance = tolerance

    def transform(self, results: dict) -> dict:
        """Augment the event frame, if the sample has one.

        Args:
            results (dict): Result dict.

        Returns:
            dict: The result dict.
        """
        key = _event_key(results)
        if key is None or np.random.rand() >= self.prob:
            return results
        results[key] = self._augment(results[key].copy())
        return results

    def _augment(self, img: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@TRANSFORMS.register_module()
class EventPolaritySwap(_EventTransform):
    """Swap ON and OFF events of the event frame.

    Args:
        **kwargs: See ``_EventTransform``.
    """

    def _augment(self, img: np.ndarray) -> np.ndarray:
        on = _color_mask(img, self.on_color, self.tolerance)
        off = _color_mask(img, self.off_color, self.tolerance)
        img[on] = self.off_color
        img[off] = self.on_color
        return img


@TRANSFORMS.register_module()
class EventNoise(_EventTransform):
    """Add random ON / OFF noise events to background pixels.

    Args:
        ratio (float): Fraction of background pixels turned into events.
            Defaults to 0.001.
        **kwargs: See ``_EventTransform``.
    """

    def __init__(self, ratio: float = 0.001, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ratio = ratio

    def _augment(self, img: np.ndarray) -> np.ndarray:
        background = _color_mask(img, self.background, self.tolerance)
        noise = background & (np.random.rand(*img.shape[:2]) < self.ratio)
        on = noise & (np.random.rand(*img.shape[:2]) < 0.5)
        img[on] = self.on_color
        img[noise & ~on] = self.off_color
        return img


@TRANSFORMS.register_module()
class EventDropout(_EventTransform):
    """Drop random events (set them to the background colour).

    Args:
        ratio (float): Fraction of event pixels dropped. Defaults to 0.1.
        **kwargs: See ``_EventTransform``.
    """

    def __init__(self, ratio: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ratio = ratio

    def _augment(self, img: np.ndarray) -> np.ndarray:
        events = ~_color_mask(img, self.background, self.tolerance)
        drop = events & (np.random.rand(*img.shape[:2]) < self.ratio)
        img[drop] = self.background
        return img
