"""Rigid registration of two LiDAR scans with small_gicp (compiled, CPU).

VGICP (voxelised generalised ICP) of `small_gicp
<https://github.com/koide3/small_gicp>`_, coarse to fine: a scan of more
than ``max_points`` points keeps every k-th, both scans are
voxel-downsampled (``downsample``), each point gets the covariance of its
``num_neighbors`` nearest neighbours, and each scan becomes Gaussian voxel
maps of ``voxel_sizes`` (one per level). The source is aligned to the
target's coarse map (a wide correspondence gate catches the motion between
frames, several metres and tens of degrees off the initial guess), then to
its fine map from that result (a tight gate for accuracy).

Why this library and these defaults, measured on four consecutive real,
full KITTI HDL-64 scans (``real_scans/000000-000003.bin`` of the shared
fixtures, about 124,000 points each, the car moving about 0.7 m a frame),
one core, every library on one thread, 2026-12-01 (figures, candidates and
commands: ``docs/benchmarks.md``, "LiDAR registration")::

    python tools/analysis_tools/benchmark_registration.py \\
        ../shared/fixtures/kitti/real_scans --candidates --pin-cpu 0

- small_gicp against KISS-ICP 1.3, Open3D 0.20 and the former NumPy ICP:
  small_gicp's VGICP is the fastest of those that meet the consistency
  target (0->1->2 composed against 0->2 direct within 2 cm / 0.05 deg):
  KISS-ICP is off by 3-9 cm and 0.1-0.16 deg, Open3D's point-to-plane ICP
  by 0.08 deg and twice as slow, the NumPy ICP took 2 s a pair.
- Thinning before the voxel grid (``max_points=50000``: every third point
  of a full scan): the voxel grid and the covariances of the raw points
  were most of the cost, and a 0.6 m voxel near the sensor holds tens of
  points either way. Per pair in a sequence (each scan prepared once, as
  the prior cache does): 21.3 / 30.4 ms on a core of the GPU machine
  (16-core Xeon; two jobs) against 46.4 / 57.8 ms for KISS-ICP's odometry
  and 44.3 / 72.3 ms for every point at 0.5 m; 15.3 ms on the development
  machine (AMD EPYC) against 28.1 ms; consistent to 0.61-0.70 cm /
  0.027-0.029 deg.
- The coarse 3 m level brings initial guesses 5 m or 20 deg off back
  (KITTI's fastest sequence moves about 2.5 m a frame); every pair starts
  from the identity, so a prior is the same cached or computed on the fly.
- Sparse scans (a 32-beam scan of 16,000 points, as in the demo sample)
  are better registered at ``downsample=0.1`` with a third, 0.25 m level:
  the sample's ``-icp`` config sets those.

Deskewing (``deskew``, :meth:`ScanRegistration.register`): a swept scan
(:mod:`.deskew`) is registered once as it is; both scans are then moved to
their mid-sweep frames under a constant velocity, the rotation and
translation of that first estimate (``'motion'``, the motion-model
deskewing of KISS-ICP with the pair's own motion) or the rotation
integrated from the IMU's gyro with the estimate's translation
(``'imu'``), and registered again from the first estimate.

Sequential, degeneracy-aware registration (``predict``): a pair is
registered from a prediction of its motion, the previous pair's estimate
(``'motion'``: constant velocity, as KISS-ICP predicts) or that estimate's
translation with the gyro rotation of the pair's IMU window (``'imu'``);
with ``min_eigen_ratio`` the directions the scans leave unconstrained
(eigenvalues of the rotation or translation block of the Hessian below
that fraction of the block's largest: the travel direction of an open
road or a corridor) keep the prediction (*solution remapping*, Zhang,
Kaess and Singh, "On degeneracy of optimization-based state estimation
problems", ICRA 2016). A pair then depends on the pairs before it, so
such priors are computed along a sequence (the prior cache), not per pair.
"""
from dataclasses import dataclass
from importlib.metadata import version
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import small_gicp

from .deskew import SWEEP_TIME, deskew_points
from .se3 import make_pose, so3_exp, so3_log
from .visual_motion import VISUAL_FIXED, VisualMotion

DESKEW_MODES = (None, 'motion', 'imu')
PREDICT_MODES = (None, 'motion', 'imu')


@dataclass
class PreparedScan:
    """A scan ready for registration (see :meth:`ScanRegistration.prepare`).

    Attributes:
        cloud (small_gicp.PointCloud): Downsampled points with covariances.
        voxel_maps (tuple[small_gicp.GaussianVoxelMap]): One map per level,
            used when the scan is the target.
        num_points (int): Points of the scan within the range limits.
    """
    cloud: small_gicp.PointCloud
    voxel_maps: Tuple[small_gicp.GaussianVoxelMap, ...]
    num_points: int


class ScanRegistration:
    """Register LiDAR scans: ``T`` (4, 4) with ``target ~= T @ source``.

    Args:
        min_range (float): Points nearer to the sensor (m), e.g. returns of
            the vehicle itself, are left out. Defaults to 2.0.
        max_range (float, optional): Points farther than this (m) are left
            out. Defaults to None (no limit).
        max_points (int, optional): A scan of more points (``N``, before
            the range limits) keeps every ``ceil(N / max_points)``-th, in
            its order, before the downsampling (see the module); None
            keeps every point. Defaults to 50000.
        downsample (float): Voxel size (m) of the downsampling.
            Defaults to 0.6.
        num_neighbors (int): Neighbours of a point covariance.
            Defaults to 10.
        voxel_sizes (Sequence[float]): Voxel sizes (m) of the target maps,
            coarse to fine. Defaults to (3.0, 0.8).
        max_correspondence (Sequence[float]): Correspondence gate (m) of
            each level. Defaults to (3.0, 0.5).
        max_iterations (Sequence[int]): Most Gauss-Newton iterations of
            each level; a coarse level may stop before it converged, the
            last must converge. Defaults to (20, 20).
        min_correspondences (int): Fewer correspondences at a level end
            the registration as failed. Defaults to 100.
        deskew (str, optional): Motion compensation of swept scans in
            :meth:`register`: ``'motion'`` or ``'imu'`` (see the module).
            Defaults to None (scans registered as they are).
        sweep_time (float): Duration (s) of one revolution of the LiDAR.
            Defaults to 0.1.
        predict (str, optional): Register each pair from a prediction of
            its motion made from the previous pair's estimate
            (``previous`` of :meth:`register`): ``'motion'`` or ``'imu'``
            (see the module). Defaults to None (every pair from the
            identity, independent of the others).
        min_eigen_ratio (float, optional): With ``predict``: directions of
            the rotation or translation block of the Hessian whose
            eigenvalue is below this fraction of the block's largest keep
            the prediction (:func:`remap_degenerate`). Defaults to None
            (the registration's estimate in every direction).
        fill_camera (dict, optional): With ``min_eigen_ratio``: settings
            of a :class:`~.visual_motion.VisualMotion` whose estimate (the
            camera's, with the scan's depth) the remapped directions take
            instead of the prediction, and the whole motion of a pair whose
            registration failed (``fill`` of :meth:`register`). The
            estimates are made along a sequence by the prior cache
            builder; with ``predict='imu'`` and ``hold_rotation=True``
            among the settings they keep the gyro's rotation of the pair
            and solve the translation only. Defaults to None.
    """

    def __init__(self,
                 min_range: float = 2.0,
                 max_range: Optional[float] = None,
                 max_points: Optional[int] = 50000,
                 downsample: float = 0.6,
                 num_neighbors: int = 10,
                 voxel_sizes: Sequence[float] = (3.0, 0.8),
                 max_correspondence: Sequence[float] = (3.0, 0.5),
                 max_iterations: Sequence[int] = (20, 20),
                 min_correspondences: int = 100,
                 deskew: Optional[str] = None,
                 sweep_time: float = SWEEP_TIME,
                 predict: Optional[str] = None,
                 min_eigen_ratio: Optional[float] = None,
                 fill_camera: Optional[dict] = None) -> None:
        if not len(voxel_sizes) == len(max_correspondence) == len(
                max_iterations) > 0:
            raise ValueError(
                'voxel_sizes, max_correspondence and max_iterations need '
                f'one value per level, got {voxel_sizes}, '
                f'{max_correspondence} and {max_iterations}')
        if min(voxel_sizes) <= 0 or min(
                max_correspondence) <= 0 or downsample <= 0:
            raise ValueError(
                'downsample, voxel_sizes and max_correspondence must be '
                f'positive, got {downsample}, {voxel_sizes}, '
                f'{max_correspondence}')
        if max_range is not None and max_range <= min_range:
            raise ValueError(f'max_range {max_range} must exceed min_range '
                             f'{min_range}')
        if max_points is not None and max_points < 1:
            raise ValueError(f'max_points must be positive or None, got '
                             f'{max_points}')
        if num_neighbors < 3:
            raise ValueError(f'num_neighbors must be >= 3, got '
                             f'{num_neighbors}')
        if deskew not in DESKEW_MODES or not sweep_time > 0:
            raise ValueError(f'deskew must be one of {DESKEW_MODES} and '
                             f'sweep_time positive, got {deskew!r} and '
                             f'{sweep_time}')
        if predict not in PREDICT_MODES:
            raise ValueError(f'predict must be one of {PREDICT_MODES}, got '
                             f'{predict!r}')
        if min_eigen_ratio is not None and (predict is None
                                            or not 0 < min_eigen_ratio < 1):
            raise ValueError(
                'min_eigen_ratio needs predict (the remapped directions '
                'keep the prediction) and a value in (0, 1), got '
                f'predict={predict!r}, min_eigen_ratio={min_eigen_ratio}')
        if fill_camera is not None and min_eigen_ratio is None:
            raise ValueError('fill_camera fills the remapped directions: it '
                             'needs predict and min_eigen_ratio')
        self.fill_camera = None if fill_camera is None else VisualMotion(**{
            k: v
            for k, v in fill_camera.items() if k not in VISUAL_FIXED
        })
        self.predict = predict
        self.min_eigen_ratio = (None if min_eigen_ratio is None else
                                float(min_eigen_ratio))
        self.min_range = float(min_range)
        self.max_range = None if max_range is None else float(max_range)
        self.max_points = None if max_points is None else int(max_points)
        self.downsample = float(downsample)
        self.num_neighbors = int(num_neighbors)
        self.voxel_sizes = tuple(float(v) for v in voxel_sizes)
        self.max_correspondence = tuple(float(d) for d in max_correspondence)
        self.max_iterations = tuple(int(n) for n in max_iterations)
        self.min_correspondences = int(min_correspondences)
        self.deskew = deskew
        self.sweep_time = float(sweep_time)

    def settings(self) -> dict:
        """Everything the result depends on, library version included
        (JSON-serialisable; the key of cached priors). ``predict`` and
        ``min_eigen_ratio`` appear only when set, so that the key of a
        pair-by-pair registration stays that of the caches built before
        they existed."""
        settings = dict(
            library='small_gicp',
            library_version=version('small_gicp'),
            method='VGICP',
            min_range=self.min_range,
            max_range=self.max_range,
            max_points=self.max_points,
            downsample=self.downsample,
            num_neighbors=self.num_neighbors,
            voxel_sizes=list(self.voxel_sizes),
            max_correspondence=list(self.max_correspondence),
            max_iterations=list(self.max_iterations),
            min_correspondences=self.min_correspondences,
            deskew=self.deskew,
            sweep_time=self.sweep_time)
        if self.sequential:
            settings.update(
                predict=self.predict, min_eigen_ratio=self.min_eigen_ratio)
        if self.fill_camera is not None:
            settings['fill_camera'] = self.fill_camera.settings()
        return settings

    @property
    def sequential(self) -> bool:
        """Whether a pair's registration depends on the previous pair's
        (``predict``): such priors are computed along a sequence."""
        return self.predict is not None

    def prediction(self,
                   previous: Optional[np.ndarray],
                   imu_rotation: Optional[np.ndarray] = None) -> np.ndarray:
        """The motion ``T`` (4, 4) a pair is registered from (``predict``).

        Args:
            previous (np.ndarray, optional): Estimate (4, 4) of the
                previous pair of the sequence; None for the first pair
                (the identity is predicted).
            imu_rotation (np.ndarray, optional): Gyro rotation (3, 3) of
                the pair (``predict='imu'``); without it the previous
                estimate's rotation is used.

        Returns:
            np.ndarray: (4, 4) float64.
        """
        T = np.eye(4) if previous is None else np.array(
            previous, dtype=np.float64)
        if T.shape != (4, 4) or not np.isfinite(T).all():
            raise ValueError(f'previous must be a finite (4, 4) matrix, got '
                             f'{previous}')
        if self.predict == 'imu' and imu_rotation is not None:
            T = make_pose(imu_rotation, T[:3, 3])
        return T

    def _crop(self, points: np.ndarray, name: str) -> np.ndarray:
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] not in (3, 4):
            raise ValueError(f'{name} must be (N, 3) or (N, 4) (x, y, z[, '
                             f'reflectance]), got {points.shape}')
        xyz = points[:, :3]
        if not np.isfinite(xyz).all():
            bad = int((~np.isfinite(xyz)).any(axis=1).sum())
            raise ValueError(f'{name} contains NaN or inf ({bad} points)')
        if self.max_points is not None and len(xyz) > self.max_points:
            xyz = xyz[::-(-len(xyz) // self.max_points)]
        r2 = np.einsum('ij,ij->i', xyz, xyz)
        keep = r2 > self.min_range**2
        if self.max_range is not None:
            keep &= r2 < self.max_range**2
        xyz = xyz[keep].astype(np.float64)
        if len(xyz) < self.num_neighbors:
            raise ValueError(
                f'{name} has {len(xyz)} points between {self.min_range} and '
                f'{self.max_range or "inf"} m, fewer than num_neighbors='
                f'{self.num_neighbors}')
        return xyz

    def prepare(self,
                points: np.ndarray,
                name: str = 'points') -> PreparedScan:
        """Downsample a scan, estimate its covariances, build its maps.

        Args:
            points (np.ndarray): (N, 3) or (N, 4) x, y, z[, reflectance].
            name (str): Name of the scan in error messages.
                Defaults to 'points'.

        Returns:
            PreparedScan: The scan, usable as source and as target.

        Raises:
            ValueError: Not a finite (N, 3) / (N, 4) array, or fewer than
                ``num_neighbors`` points within range or after downsampling.
        """
        xyz = self._crop(points, name)
        cloud, _ = small_gicp.preprocess_points(
            xyz,
            downsampling_resolution=self.downsample,
            num_neighbors=self.num_neighbors,
            num_threads=1)
        if cloud.size() < self.num_neighbors:
            raise ValueError(
                f'{name} has {cloud.size()} points after voxel downsampling '
                f'({self.downsample} m), fewer than num_neighbors='
                f'{self.num_neighbors}')
        maps = []
        for size in self.voxel_sizes:
            voxel_map = small_gicp.GaussianVoxelMap(size)
            voxel_map.insert(cloud)
            maps.append(voxel_map)
        return PreparedScan(cloud, tuple(maps), len(xyz))

    def align(self,
              source: PreparedScan,
              target: PreparedScan,
              init: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Dict]:
        """Register two prepared scans.

        Args:
            source (PreparedScan): Scan to move.
            target (PreparedScan): Scan to align to.
            init (np.ndarray, optional): Initial ``T`` (4, 4). Defaults to
                the identity.

        Returns:
            tuple[np.ndarray, dict]: ``T`` (4, 4) float64 and ``info``:
            ``converged`` (bool; False when a level found fewer than
            ``min_correspondences`` correspondences or did not converge in
            ``max_iterations``; ``T`` is then that level's estimate),
            ``iterations`` (all levels), ``num_correspondences``,
            ``error`` (small_gicp's final cost) and ``hessian`` (6, 6)
            (its Gauss-Newton Hessian, rotation then translation) of the
            last level run, and ``num_source_points`` (the source's
            downsampled points; see :func:`registration_quality`).

        Raises:
            ValueError: ``init`` is not a finite (4, 4) matrix.
        """
        T = np.eye(4) if init is None else np.array(init, dtype=np.float64)
        if T.shape != (4, 4) or not np.isfinite(T).all():
            raise ValueError(f'init must be a finite (4, 4) matrix, got {T}')
        info = dict(
            converged=False,
            iterations=0,
            num_correspondences=0,
            error=0.0,
            hessian=np.zeros((6, 6)),
            num_source_points=int(source.cloud.size()))
        for voxel_map, gate, iters in zip(target.voxel_maps,
                                          self.max_correspondence,
                                          self.max_iterations):
            result = small_gicp.align(
                voxel_map,
                source.cloud,
                T,
                max_correspondence_distance=gate,
                num_threads=1,
                max_iterations=iters)
            info['iterations'] += result.iterations
            info.update(
                num_correspondences=int(result.num_inliers),
                error=float(result.error),
                hessian=np.array(result.H, dtype=np.float64))
            if result.num_inliers < self.min_correspondences:
                return T, info
            T = result.T_target_source
        info['converged'] = bool(result.converged)
        return T, info

    def __call__(self,
                 source: np.ndarray,
                 target: np.ndarray,
                 init: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Dict]:
        """Prepare and register two scans as they are (see :meth:`prepare`,
        :meth:`align`)."""
        return self.align(
            self.prepare(source, 'source'), self.prepare(target, 'target'),
            init)

    def register(self,
                 source: np.ndarray,
                 target: np.ndarray,
                 dt: Optional[float] = None,
                 imu_rotation: Optional[np.ndarray] = None,
                 prepared: Optional[Tuple[PreparedScan, PreparedScan]] = None,
                 previous: Optional[np.ndarray] = None,
                 fill: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Dict]:
        """Register the scan of a later frame onto an earlier one,
        deskewing both as ``deskew`` says and, with ``predict``, from the
        predicted motion, degenerate directions remapped to it.

        Args:
            source (np.ndarray): Later scan (N, 3+), swept.
            target (np.ndarray): Earlier scan (M, 3+), swept.
            dt (float, optional): Time (s) between the two frames; needed
                to deskew.
            imu_rotation (np.ndarray, optional): Rotation (3, 3) of the
                LiDAR over ``dt`` from the gyro (``deskew='imu'``); without
                it the registration's own is used (``info['deskew']``
                says which).
            prepared (tuple, optional): ``source`` and ``target`` already
                prepared (:meth:`prepare`), e.g. shared along a sequence.
            previous (np.ndarray, optional): With ``predict``, the estimate
                (4, 4) of the previous pair (see :meth:`prediction`).
            fill (np.ndarray, optional): With ``min_eigen_ratio``, another
                sensor's estimate (4, 4) of the motion: the remapped
                directions take it instead of the prediction, and a pair
                whose registration failed takes it whole.

        Returns:
            tuple[np.ndarray, dict]: ``T`` (4, 4) with ``target ~= T @
            source`` and the ``info`` of :meth:`align`, plus ``deskew``
            (the mode used; None when the scans were not deskewed: no
            ``deskew``, or the first registration or the deskewed one did
            not converge, which returns the first) and, with ``predict``,
            ``prediction`` (4, 4), ``free_directions`` (the rotation and
            translation directions remapped, see :func:`remap_degenerate`)
            and ``filled`` (whether ``fill`` went into ``T``).
        """
        if prepared is None:
            prepared = (self.prepare(source,
                                     'source'), self.prepare(target, 'target'))
        if not self.sequential:
            return self._register_deskewed(source, target, dt, imu_rotation,
                                           prepared, None)
        prediction = self.prediction(previous, imu_rotation)
        T, info = self._register_deskewed(source, target, dt, imu_rotation,
                                          prepared, prediction)
        info.update(
            prediction=prediction, free_directions=(0, 0), filled=False)
        if self.min_eigen_ratio is None:
            return T, info
        if info['converged']:
            T, free = remap_degenerate(T, prediction, info['hessian'],
                                       self.min_eigen_ratio, fill)
            info.update(
                free_directions=free, filled=fill is not None and any(free))
        elif fill is not None:
            T = np.array(fill, dtype=np.float64)
            info.update(free_directions=(3, 3), filled=True)
        return T, info

    def _register_deskewed(
            self, source: np.ndarray, target: np.ndarray, dt: Optional[float],
            imu_rotation: Optional[np.ndarray], prepared: Tuple[PreparedScan,
                                                                PreparedScan],
            init: Optional[np.ndarray]) -> Tuple[np.ndarray, Dict]:
        """:meth:`register` from ``init``, without the remapping."""
        T, info = self.align(*prepared, init)
        info['deskew'] = None
        if self.deskew is None or not info['converged']:
            return T, info
        if dt is None or not dt > 0:
            raise ValueError(f'deskewing needs the positive time between the '
                             f'frames, got dt={dt}')
        mode = 'imu' if (self.deskew == 'imu'
                         and imu_rotation is not None) else 'motion'
        motion = T if mode == 'motion' else make_pose(imu_rotation, T[:3, 3])
        source, target = (
            deskew_points(p, motion, dt, self.sweep_time)
            for p in (source, target))
        T_deskewed, deskewed = self.align(
            self.prepare(source, 'source'), self.prepare(target, 'target'), T)
        if not deskewed['converged']:  # keep the converged first estimate
            return T, info
        deskewed['deskew'] = mode
        return T_deskewed, deskewed

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v}' for k, v in self.settings().items()
                         if not k.startswith(('library', 'method')))
        return f'{self.__class__.__name__}({args})'


def remap_degenerate(T: np.ndarray,
                     prediction: np.ndarray,
                     hessian: np.ndarray,
                     min_eigen_ratio: float,
                     fill: Optional[np.ndarray] = None
                     ) -> Tuple[np.ndarray, tuple]:
    """Keep the prediction (or another sensor's estimate, ``fill``) in the
    directions a registration leaves free (solution remapping, see the
    module).

    The correction of the registration, ``T = prediction @ exp(delta)``
    with ``delta`` = (rotation, translation) in the frame of the
    prediction (small_gicp's Hessian is taken in that frame, rotation
    first), is projected, block by block, onto the eigenvectors of the
    rotation and the translation block of the Hessian whose eigenvalues
    are at least ``min_eigen_ratio`` times the block's largest; what lies
    along the others is dropped or, with ``fill``, replaced by what lies
    along them of ``fill``'s difference from the prediction (the motion
    of a sensor that sees those directions, e.g. :class:`~.visual_motion.
    VisualMotion`'s).

    Args:
        T (np.ndarray): The registration's estimate (4, 4).
        prediction (np.ndarray): The motion (4, 4) it started from.
        hessian (np.ndarray): Its Gauss-Newton Hessian (6, 6).
        min_eigen_ratio (float): See :class:`ScanRegistration`.
        fill (np.ndarray, optional): A motion (4, 4) the free directions
            take. Defaults to None (they keep the prediction).

    Returns:
        tuple[np.ndarray, tuple[int, int]]: The remapped ``T`` (4, 4) and
        how many rotation and translation directions were remapped.
    """
    H = np.asarray(hessian, dtype=np.float64).reshape(6, 6)
    R_p, t_p = prediction[:3, :3], prediction[:3, 3]

    def deltas(M):
        return so3_log(R_p.T @ M[:3, :3]), R_p.T @ (M[:3, 3] - t_p)

    fills = deltas(fill) if fill is not None else (np.zeros(3), ) * 2
    kept, free = [], []
    for block, delta, other in zip((H[:3, :3], H[3:, 3:]), deltas(T), fills):
        eig, vec = np.linalg.eigh(0.5 * (block + block.T))
        weak = eig < min_eigen_ratio * max(eig[-1], 1e-12)
        good, bad = vec[:, ~weak], vec[:, weak]
        kept.append(good @ (good.T @ delta) + bad @ (bad.T @ other))
        free.append(int(weak.sum()))
    return make_pose(R_p @ so3_exp(kept[0]), t_p + R_p @ kept[1]), tuple(free)


#: Names of the entries of :func:`registration_quality`.
QUALITY_NAMES = ('converged', 'inlier_ratio', 'log_error',
                 'log_trans_condition', 'log_rot_condition',
                 'log_trans_constraint')


def registration_quality(info: Dict) -> np.ndarray:
    """How far a registration can be trusted, as a small vector.

    From the report of :meth:`ScanRegistration.align` (scale-free where
    possible, each entry about in [0, 1] for a good registration):

    - ``converged``: 1 or 0;
    - ``inlier_ratio``: correspondences / downsampled source points;
    - ``log_error``: ``log10(1 + error / correspondences)``, the mean
      cost of a correspondence;
    - ``log_trans_condition`` / ``log_rot_condition``: ``-log10`` of the
      ratio of the smallest to the largest eigenvalue of the translation /
      rotation block of the Hessian, over 3: near 0 when every direction
      is constrained alike, 1 and more when one is nearly free (an open
      road or a corridor leaves the translation along it unconstrained);
    - ``log_trans_constraint``: ``log10`` of the smallest translation
      eigenvalue per correspondence, over 3 (how well the worst direction
      is held at all).

    Eigenvalues do not change when both scans are rotated, so the quality
    of a cached pair also serves its yaw-rotated copies.

    Args:
        info (dict): ``converged``, ``num_correspondences``, ``error``,
            ``hessian`` (6, 6), ``num_source_points``.

    Returns:
        np.ndarray: float64 (6, ), in the order of :data:`QUALITY_NAMES`.
    """
    n = max(int(info['num_correspondences']), 1)
    H = np.asarray(info['hessian'], dtype=np.float64).reshape(6, 6)
    tiny = 1e-12
    # ascending eigenvalues of the symmetrised rotation / translation blocks
    rot, trans = (
        np.linalg.eigvalsh(0.5 * (b + b.T)) for b in (H[:3, :3], H[3:, 3:]))

    def condition(eig):
        return -np.log10(max(eig[0], tiny) / max(eig[-1], tiny)) / 3.0

    return np.array([
        float(info['converged']),
        info['num_correspondences'] / max(int(info['num_source_points']), 1),
        np.log10(1.0 + max(float(info['error']), 0.0) / n),
        condition(trans),
        condition(rot),
        np.log10(max(trans[0], tiny) / n) / 3.0,
    ])


def register_scans(source: np.ndarray,
                   target: np.ndarray,
                   init: Optional[np.ndarray] = None,
                   **cfg) -> Tuple[np.ndarray, Dict]:
    """Rigid transform ``T`` (4, 4) with ``target ~= T @ source``.

    Args:
        source (np.ndarray): Points (N, 3) or (N, 4) to move.
        target (np.ndarray): Points (M, 3) or (M, 4) to align to.
        init (np.ndarray, optional): Initial ``T`` (4, 4). Defaults to the
            identity.
        **cfg: Settings of :class:`ScanRegistration`.

    Returns:
        tuple[np.ndarray, dict]: ``T`` and ``info``, see
        :meth:`ScanRegistration.align`; a failed registration is reported
        in ``info['converged']``, not raised.
    """
    return ScanRegistration(**cfg)(source, target, init)
