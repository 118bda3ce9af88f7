from typing import List, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet3d.datasets.transforms import PointsRangeFilter
from mmdet3d.registry import TRANSFORMS


@TRANSFORMS.register_module()
class OdomPointsRangeFilter(PointsRangeFilter):
    """Apply :class:`mmdet3d.datasets.transforms.PointsRangeFilter` to both
    clouds of a frame pair.

    Required / modified keys: ``points`` (list of two ``LiDARPoints``).

    Args:
        point_cloud_range (list[float]): ``[x0, y0, z0, x1, y1, z1]``.
    """

    def transform(self, results: dict) -> dict:
        results['points'] = [
            super(OdomPointsRangeFilter,
                  self).transform(dict(points=cloud))['points']
            for cloud in results['points']
        ]
        return results


@TRANSFORMS.register_module()
class OdomPointDropout(BaseTransform):
    """Randomly drop a fraction of the points of each cloud (masking
    augmentation); the two clouds are dropped independently.

    Place it before :class:`OdomPointSample` so that sampling refills the
    cloud from the kept points.

    Modified Keys: ``points``; adds ``point_dropout`` (tuple of the two
    drop ratios) when applied.

    Args:
        drop_ratio (tuple[float, float]): Range the fraction of dropped
            points is drawn from per cloud. Defaults to (0.0, 0.2).
        prob (float): Probability to apply it to a sample. Defaults to 0.5.
    """

    def __init__(self,
                 drop_ratio: Tuple[float, float] = (0.0, 0.2),
                 prob: float = 0.5) -> None:
        if not 0 <= drop_ratio[0] <= drop_ratio[1] < 1:
            raise ValueError(f'drop_ratio must lie in [0, 1), got '
                             f'{drop_ratio}')
        self.drop_ratio = tuple(drop_ratio)
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        clouds, ratios = [], []
        for cloud in results['points']:
            ratio = np.random.uniform(*self.drop_ratio)
            keep = np.random.rand(len(cloud)) >= ratio
            clouds.append(cloud[torch.from_numpy(keep)])
            ratios.append(ratio)
        results['points'] = clouds
        results['point_dropout'] = tuple(ratios)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(drop_ratio={self.drop_ratio}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class OdomPointSample(BaseTransform):
    """Sample a fixed number of points from each cloud of a frame pair.

    A cloud with at least ``num_points`` points gives ``num_points`` points
    drawn without replacement (training) or evenly spaced by index
    (``deterministic=True``, for testing).  A smaller cloud keeps all its
    points and is zero-padded; ``points_mask`` marks the real points.

    Required Keys: ``points`` (list of two ``LiDARPoints``).

    Added / modified Keys:

    - points (list[:obj:`LiDARPoints`]): Two clouds of (num_points, C).
    - points_mask (list[np.ndarray]): Two bool masks of (num_points,).

    Args:
        num_points (int): Points per cloud.
        deterministic (bool): Evenly spaced instead of random choice.
            Defaults to False.
    """

    def __init__(self, num_points: int, deterministic: bool = False) -> None:
        if num_points < 1:
            raise ValueError(f'num_points must be >= 1, got {num_points}')
        self.num_points = num_points
        self.deterministic = deterministic

    def _indices(self, n: int) -> np.ndarray:
        if self.deterministic:
            return (np.arange(self.num_points) * n) // self.num_points
        return np.random.choice(n, self.num_points, replace=False)

    def transform(self, results: dict) -> dict:
        clouds: List = []
        masks: List[np.ndarray] = []
        for cloud in results['points']:
            n = len(cloud)
            mask = np.zeros(self.num_points, dtype=bool)
            if n >= self.num_points:
                cloud = cloud[torch.from_numpy(self._indices(n))]
                mask[:] = True
            else:
                padded = cloud.tensor.new_zeros(
                    (self.num_points, cloud.tensor.shape[1]))
                padded[:n] = cloud.tensor
                cloud = cloud.new_point(padded)
                mask[:n] = True
            clouds.append(cloud)
            masks.append(mask)
        results['points'] = clouds
        results['points_mask'] = masks
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_points={self.num_points}, '
                f'deterministic={self.deterministic})')
