"""Geometric prior of the relative pose: registration of the two scans."""
import os.path as osp
import time
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS
from mmengine.logging import print_log

from ...utils.imu_integration import gyro_lidar_rotation
from ...utils.registration import ScanRegistration, registration_quality
from ...utils.se3 import pose_to_vector, se3_inverse
from ..reg_prior_cache import RegPriorCache, reg_prior_file_name
from .odom_global_yaw_rotation import rotate_relative_pose, yaw_matrix

# results keys left by augmentations that thin the clouds
_THINNED = dict(
    point_dropout='OdomPointDropout', points_mask='OdomPointSample')

# the transform's own arguments; the others are ScanRegistration's
TRANSFORM_OPTIONS = ('prior_cache', 'quality', 'failed')


def registration_settings(step: dict) -> dict:
    """The :class:`ScanRegistration` settings of an
    ``OdomScanRegistration`` config step: all but ``type`` and the
    transform's own options (:data:`TRANSFORM_OPTIONS`), what the prior
    cache of the step must be built with."""
    return {
        k: v
        for k, v in step.items() if k != 'type' and k not in TRANSFORM_OPTIONS
    }


@TRANSFORMS.register_module()
class OdomScanRegistration(BaseTransform):
    """Prior of the relative pose for :class:`PriorResidualPoseHead`: the
    registration of the second scan of a pair onto the first
    (:class:`~..utils.registration.ScanRegistration`, small_gicp VGICP).

    The registration gives ``T_L`` with ``scan_t ~= T_L @ scan_{t+k}`` in
    the LiDAR frame; the prior is ``Tr @ T_L @ inv(Tr)`` in the camera-0
    frame (the convention of ``gt_pose``), stored as a pose vector:
    translation (m) and axis-angle (rad).

    Where the prior comes from:

    - ``prior_cache`` set (the folder of the files of
      ``tools/dataset_converters/kitti_reg_prior_cache.py``, usually the
      info folder): the prior computed once for the pair's two scans is
      read. A missing cache, one of other registration settings, a pair
      it lacks or a scan that changed since raise an error naming the file
      and the command that (re)builds it: a config that names a cache
      expects it, and registering every sample of every epoch instead
      (tens of milliseconds a pair, in every dataloader worker) would
      hide the mistake.
    - After :class:`OdomGlobalYawRotation` (``yaw_rotation`` in the
      results) the cached prior is rotated analytically like the target
      (:func:`rotate_relative_pose`): no recompute.
    - Clouds thinned before this transform by :class:`OdomPointDropout` or
      :class:`OdomPointSample` force a registration of the thinned clouds
      on the fly: the pipeline asks for a prior of degraded scans (place
      them after this transform to use the cache). The range filter
      (:class:`OdomPointsRangeFilter`) does not: the cache registered the
      whole scans within ``min_range`` / ``max_range``.
    - ``prior_cache=None``: every pair is registered on the fly.
    - A sequential registration (``predict``, see
      :class:`ScanRegistration`) needs the previous pair's estimate, which
      a sample does not have: it is read from the cache only (a cache is
      required, and clouds thinned before the transform are refused).
    - A deskewing registration (``deskew='motion'`` / ``'imu'``, see
      :meth:`ScanRegistration.register`) takes the time between the frames
      from ``times`` and the gyro rotation from the raw ``imu`` window
      (place it before :class:`NormalizeOdomIMU`).

    Each of these cases is logged once. Place the transform after the
    augmentations that move the clouds. Samples without LiDAR are passed
    through. A failed registration (too few correspondences, or no
    convergence) stores no prior, so the head falls back to regression;
    it is logged once per pair with the sample's sequence and frames.
    With ``failed='predict'`` a failed pair of a sequential registration
    gets the motion its chain went on from instead:
    :meth:`ScanRegistration.prediction` of the last pair before it that
    converged (the cache's :meth:`RegPriorCache.last_converged`) and, with
    ``predict='imu'``, the gyro rotation of the pair's own IMU window (the
    previous estimate's rotation without one); ``reg_info['source']`` is
    then ``'prediction'`` and ``converged`` stays False. A failed pair of
    a registration filled by the camera (``fill_camera``, see
    :class:`ScanRegistration`) keeps the cached camera motion
    (``reg_info['source']`` ``'camera'``) with either setting.

    Required Keys: ``points`` (two clouds), ``Tr``; ``seq``, ``frame_ids``
    and ``lidar_paths`` with a cache.
    Added Keys: ``reg_prior`` (np.ndarray float32 (6, )) when registered,
    ``reg_info`` (dict: ``converged``, ``iterations``,
    ``num_correspondences``, ``error``, ``hessian``, ``num_source_points``,
    ``deskew`` (the mode used or None), ``source``: ``'cache'`` or
    ``'registered'``), with ``quality`` also ``reg_quality`` (np.ndarray
    float32 (6, ), :func:`registration_quality`; failed registrations
    included).

    Args:
        prior_cache (str, optional): Folder of the cached priors
            (``kitti_reg_priors_XX.npz``). Defaults to None (register on
            the fly).
        quality (bool): Also store how far the registration can be trusted
            (``reg_quality``, read by a fusion with ``quality_channels``,
            e.g. :class:`PointGateFusion`). Defaults to False.
        failed (str): Prior of a failed registration: ``'regress'`` (none)
            or ``'predict'`` (the chain's prediction; sequential
            registrations only). Defaults to ``'regress'``.
        **registration: Settings of :class:`ScanRegistration` (also the
            key of the cache: priors of other settings are refused).
    """

    def __init__(self,
                 prior_cache: Optional[str] = None,
                 quality: bool = False,
                 failed: str = 'regress',
                 **registration) -> None:
        self.prior_cache = prior_cache
        self.quality = bool(quality)
        self.registration = ScanRegistration(**registration)
        if failed not in ('regress', 'predict'):
            raise ValueError(
                f"failed must be 'regress' or 'predict', got {failed!r}")
        if failed == 'predict' and not self.registration.sequential:
            raise ValueError(
                f"{self.__class__.__name__}: failed='predict' keeps the "
                'prediction of a sequential registration (predict=...)')
        self.failed = failed
        if self.registration.sequential and prior_cache is None:
            raise ValueError(
                f'{self.__class__.__name__}: predict='
                f'{self.registration.predict!r} registers a pair from the '
                'previous pair of its sequence, so its priors come from a '
                'prior_cache (tools/dataset_converters/'
                'kitti_reg_prior_cache.py --config CONFIG)')
        self._settings = self.registration.settings()
        self._caches: Dict[str, RegPriorCache] = {}
        self._logged = set()

    def _log_once(self, key, msg: str, level: int = 20) -> None:
        if key not in self._logged:
            self._logged.add(key)
            print_log(
                f'{self.__class__.__name__}: {msg}',
                logger='current',
                level=level)

    def _cached(self, results: dict):
        seq = results['seq']
        if seq not in self._caches:
            self._caches[seq] = RegPriorCache(
                osp.join(self.prior_cache, reg_prior_file_name(seq)),
                self._settings, seq)
        return self._caches[seq].lookup(results['frame_ids'],
                                        results['lidar_paths'])

    def _imu_rotation(self, results: dict) -> Optional[np.ndarray]:
        """Gyro rotation (3, 3) of the LiDAR over the pair, or None
        without an IMU window."""
        imu = results.get('imu')
        if (imu is None or not len(imu) or not results.get('has_imu', True)):
            return None
        if results.get('imu_normalized', False):
            raise ValueError(f'{self.__class__.__name__} reads the raw IMU '
                             '(deskew or predict with it): place it '
                             'before NormalizeOdomIMU')
        return gyro_lidar_rotation(imu, results['times'][1],
                                   results['imu_frame'], results['Tr'],
                                   results.get('T_velo_imu'))

    def _register(self, clouds, results: dict):
        start = time.perf_counter()
        times = results.get('times')
        dt = None if times is None else times[1] - times[0]
        try:
            T, info = self.registration.register(
                clouds[1].tensor[:, :3].numpy(),
                clouds[0].tensor[:, :3].numpy(), dt,
                self._imu_rotation(results)
                if self.registration.deskew == 'imu' else None)
        except ValueError as e:
            raise ValueError(
                f'{self.__class__.__name__}: sequence {results.get("seq")} '
                f'frames {results.get("frame_ids")}: {e}') from e
        self._log_once(
            'timing', 'registering on the fly '
            f'({1000 * (time.perf_counter() - start):.0f} ms for the first '
            'pair)')
        return T, info

    def _prediction(self, results: dict) -> np.ndarray:
        """``T_L`` (4, 4) the chain went on from at a failed pair, in the
        LiDAR frame of the scans as cached (before a yaw rotation)."""
        previous = self._caches[results['seq']].last_converged(
            results['frame_ids'])
        rotation = None
        if self.registration.predict == 'imu':
            rotation = self._imu_rotation(results)
        if rotation is not None and 'yaw_rotation' in results:
            # the IMU was rotated with the clouds: R' = R_z R R_z^T
            R_z = yaw_matrix(results['yaw_rotation'])
            rotation = R_z.T @ rotation @ R_z
        return self.registration.prediction(previous, rotation)

    def transform(self, results: dict) -> dict:
        clouds = results.get('points')
        if clouds is None:
            return results
        if len(clouds) != 2:
            raise ValueError('OdomScanRegistration needs two clouds, got '
                             f'{len(clouds)}')
        Tr = np.asarray(results['Tr'], dtype=np.float64)
        thinned = [name for key, name in _THINNED.items() if key in results]
        if self.prior_cache is not None and not thinned:
            T_lidar, info = self._cached(results)
            info['source'] = 'cache'
            if info['filled'] and not info['converged']:
                info['source'] = 'camera'  # the camera's whole motion
            elif not info['converged'] and self.failed == 'predict':
                T_lidar = self._prediction(results)
                info['source'] = 'prediction'
            T_cam = Tr @ T_lidar @ se3_inverse(Tr)
            if 'yaw_rotation' in results:
                self._log_once(
                    'yaw', 'cached priors of yaw-rotated samples '
                    '(OdomGlobalYawRotation) are rotated like the target')
                T_cam = rotate_relative_pose(
                    T_cam, yaw_matrix(results['yaw_rotation']), Tr)
        else:
            if self.registration.sequential:
                raise ValueError(
                    f'{self.__class__.__name__}: clouds thinned by '
                    f'{" and ".join(thinned)} before a sequential '
                    'registration (predict) cannot be registered on the '
                    'fly; place them after this transform')
            if self.prior_cache is not None:
                self._log_once(
                    'thinned', f'clouds thinned by {" and ".join(thinned)} '
                    'before the registration are registered on the fly, '
                    'not read from the cache (place it after this '
                    'transform to use the cache)')
            T_lidar, info = self._register(clouds, results)
            info['source'] = 'registered'
            T_cam = Tr @ T_lidar @ se3_inverse(Tr)
        results['reg_info'] = info
        if self.quality:
            results['reg_quality'] = registration_quality(info).astype(
                np.float32)
        if not info['converged']:
            predicted = info['source'] in ('prediction', 'camera')
            self._log_once(
                ('failed', results.get('seq'),
                 tuple(results.get('frame_ids', ()))),
                f'registration failed for sequence {results.get("seq")} '
                f'frames {results.get("frame_ids")} '
                f'({info["num_correspondences"]} correspondences); ' +
                (f'prior: the {info["source"]}' if predicted else 'no prior'),
                level=30)
            if not predicted:
                return results
        results['reg_prior'] = pose_to_vector(T_cam).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prior_cache={self.prior_cache!r}'
                f', quality={self.quality}, failed={self.failed!r}, '
                f'registration={self.registration!r})')
