import json
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...utils.kitti_io import kitti_error


@TRANSFORMS.register_module()
class NormalizeOdomIMU(BaseTransform):
    """Normalise the IMU channels with per-channel mean and std.

    The statistics come from the converter (``infos/imu_stats.json``) or
    are given directly.  The time column is kept as is.

    Required / modified keys: ``imu`` (float32 (L, 7) ``[time, acc xyz,
    gyro xyz]``); reads ``imu_frame`` to check it matches the statistics;
    adds ``imu_normalized``.

    Args:
        stats_file (str, optional): JSON written by the converter.
        mean (Sequence[float], optional): 6 means (if no ``stats_file``).
        std (Sequence[float], optional): 6 stds (if no ``stats_file``).
    """

    def __init__(self,
                 stats_file: Optional[str] = None,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None) -> None:
        self.stats_file = stats_file
        self.frame = None
        where = stats_file or 'NormalizeOdomIMU'
        if stats_file is not None:
            try:
                with open(stats_file) as f:
                    stats = json.load(f)
            except FileNotFoundError:
                raise kitti_error(
                    'missing_file', stats_file, 'IMU statistics not found; '
                    'run tools/dataset_converters/kitti_odom_converter.py'
                ) from None
            except json.JSONDecodeError as e:
                raise kitti_error('malformed_file', stats_file,
                                  f'invalid JSON ({e.msg})',
                                  e.lineno) from None
            mean, std = stats.get('mean'), stats.get('std')
            self.frame = stats.get('frame')
        if mean is None or std is None:
            raise kitti_error('bad_imu_stats', where,
                              'mean and std are required')
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if (self.mean.shape != (6, ) or self.std.shape != (6, )
                or not np.all(np.isfinite(self.mean))
                or not np.all(self.std > 0)):
            raise kitti_error(
                'bad_imu_stats', where,
                f'mean / std must be 6 finite values with std > 0, got {mean} '
                f'/ {std}')

    def transform(self, results: dict) -> dict:
        imu = results['imu']
        if len(imu):
            if self.frame is not None and results.get(
                    'imu_frame') != self.frame:
                raise ValueError(
                    f'{self.stats_file}: statistics are in the '
                    f'{self.frame!r} frame but the IMU of sequence '
                    f'{results.get("seq")} is in {results.get("imu_frame")!r}')
            if not np.all(np.isfinite(imu)):
                raise ValueError(
                    f'sequence {results.get("seq")} frames '
                    f'{results.get("frame_ids")}: NaN or inf in IMU')
            imu = imu.copy()
            imu[:, 1:] = (imu[:, 1:] - self.mean) / self.std
            results['imu'] = imu
        results['imu_normalized'] = True
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mean={self.mean.tolist()}, '
                f'std={self.std.tolist()})')
