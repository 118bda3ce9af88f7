import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS


@TRANSFORMS.register_module()
class OdomPhotoMetricJitter(BaseTransform):
    """Random brightness, contrast and saturation of a frame pair.

    The same factors are applied to both images (``same_for_pair=True``)
    so that the photometric consistency between the two frames, on which
    visual odometry relies, is kept.

    Required / modified keys: ``imgs`` (two (H, W, 3) uint8 BGR images).

    Args:
        brightness (float): Factor drawn from ``[1 - b, 1 + b]``.
            Defaults to 0.2.
        contrast (float): Likewise for contrast. Defaults to 0.2.
        saturation (float): Likewise for saturation. Defaults to 0.0.
        prob (float): Probability to apply it. Defaults to 1.0.
        same_for_pair (bool): One set of factors for both images.
            Defaults to True.
    """

    def __init__(self,
                 brightness: float = 0.2,
                 contrast: float = 0.2,
                 saturation: float = 0.0,
                 prob: float = 1.0,
                 same_for_pair: bool = True) -> None:
        for name, v in (('brightness', brightness), ('contrast', contrast),
                        ('saturation', saturation)):
            if not 0 <= v < 1:
                raise ValueError(f'{name} must lie in [0, 1), got {v}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.prob = prob
        self.same_for_pair = same_for_pair

    def _factors(self) -> tuple:
        return tuple(
            np.random.uniform(1 - v, 1 + v)
            for v in (self.brightness, self.contrast, self.saturation))

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        factors = self._factors()
        imgs = []
        for img in results['imgs']:
            if not self.same_for_pair:
                factors = self._factors()
            b, c, s = factors
            img = mmcv.adjust_brightness(img, b)
            img = mmcv.adjust_contrast(img, c)
            if self.saturation:
                img = mmcv.adjust_color(img, s)
            imgs.append(img)
        results['imgs'] = imgs
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'prob={self.prob})')
