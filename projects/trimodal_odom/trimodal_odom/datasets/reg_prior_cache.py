"""Registration priors of a KITTI sequence computed once, read per sample.

One ``.npz`` per sequence beside the info files
(``DATA_ROOT/infos/kitti_reg_priors_XX.npz``, written by
``tools/dataset_converters/kitti_reg_prior_cache.py``) holds, for every
frame pair ``(t, t + k)`` of the sequence, the LiDAR-frame motion ``T_L``
with ``scan_t ~= T_L @ scan_{t+k}`` as a pose vector (translation m,
axis-angle rad) and the registration's report, keyed by

- the registration settings (:meth:`ScanRegistration.settings`, library
  version included): a cache of other settings is refused when opened,
- a fingerprint of every scan (size in bytes and CRC-32 of its first
  4 KiB) and its path: a pair whose scans changed since is refused when it
  is looked up.

Arrays: ``version``, ``seq``, ``settings`` (JSON), ``frame_gap``,
``lidar_paths`` (N,) / ``scan_bytes`` (N,) / ``scan_crc`` (N,) per frame,
``frame_ids`` (P, 2), ``pose`` (P, 6) float64, ``converged`` (P,),
``iterations`` (P,), ``num_correspondences`` (P,), ``error`` (P,),
``hessian`` (P, 6, 6) float64 (small_gicp's final Hessian, rotation then
translation), ``num_source_points`` (P,) (the source's downsampled points)
and ``deskewed_with`` (P,) (``'motion'``, ``'imu'`` or ``''``) per pair;
with ``fill_camera`` also ``filled`` (P,) (the camera's estimate went into
the pose), ``visual_pose`` (P, 6) and ``visual_inliers`` (P,) (that
estimate and its PnP inliers, 0 where it failed).
"""
import json
import os.path as osp
import zlib
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from ..utils.kitti_io import kitti_error
from ..utils.se3 import make_pose, so3_exp

REG_PRIOR_VERSION = '1.2'
CACHE_TOOL = 'python tools/dataset_converters/kitti_reg_prior_cache.py'
_HEAD_BYTES = 4096
# settings that are not options of the registration
_FIXED = ('library', 'library_version', 'method')


def _cli_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)


def reg_prior_file_name(seq: str) -> str:
    """File name of the registration priors of sequence ``seq``."""
    return f'kitti_reg_priors_{seq}.npz'


def scan_fingerprint(path: str) -> Tuple[int, int]:
    """``(size in bytes, CRC-32 of the first 4 KiB)`` of a scan file."""
    with open(path, 'rb') as f:
        head = f.read(_HEAD_BYTES)
    return osp.getsize(path), zlib.crc32(head)


def settings_json(settings: dict) -> str:
    """Canonical JSON of registration settings (the cache key)."""
    return json.dumps(settings, sort_keys=True)


class RegPriorCache:
    """The cached registration priors of one sequence.

    Args:
        path (str): The sequence's ``.npz``.
        settings (dict): Settings of the registration the priors must come
            from (:meth:`ScanRegistration.settings`).
        seq (str, optional): Sequence the file must hold.

    Raises:
        KittiFormatError: The file is missing, is not a cache of this
            version (or of ``seq``), or was computed with other settings;
            the message names the file and the command that rebuilds it.
    """

    def __init__(self,
                 path: str,
                 settings: dict,
                 seq: Optional[str] = None) -> None:
        self.path = path
        rebuild = (f'build it with {CACHE_TOOL} DATA_ROOT --out-dir '
                   f'{osp.dirname(path) or "."}')
        if not osp.isfile(path):
            raise kitti_error(
                'missing_file', path,
                f'registration-prior cache not found; {rebuild}')
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            version = str(arrays['version'])
            cached = json.loads(str(arrays['settings']))
        except (OSError, ValueError, KeyError) as e:
            raise kitti_error(
                'malformed_file', path,
                f'not a registration-prior cache ({e}); '
                f'{rebuild}') from None
        if version != REG_PRIOR_VERSION or (seq is not None
                                            and str(arrays['seq']) != seq):
            raise kitti_error(
                'stale_cache', path, f'version {version} cache of sequence '
                f'{arrays["seq"]}, expected version {REG_PRIOR_VERSION} of '
                f'sequence {seq}; {rebuild}')
        wanted = json.loads(settings_json(settings))
        if cached != wanted:
            keys = [
                key for key in sorted(set(cached) | set(wanted))
                if cached.get(key) != wanted.get(key)
            ]
            diff = ', '.join(f'{key}={cached.get(key)!r} (wanted '
                             f'{wanted.get(key)!r})' for key in keys)
            options = ' '.join(f'{key}={_cli_value(wanted[key])}'
                               for key in keys
                               if key in wanted and key not in _FIXED)
            raise kitti_error(
                'stale_cache', path,
                f'priors computed with other registration settings:'
                f' {diff}; rebuild it with {CACHE_TOOL} DATA_ROOT --force' +
                (f' --reg-cfg {options}' if options else ''))
        self.seq = str(arrays['seq'])
        self.frame_gap = int(arrays['frame_gap'])
        self._lidar_paths = [str(p) for p in arrays['lidar_paths']]
        self._scan_bytes = arrays['scan_bytes']
        self._scan_crc = arrays['scan_crc']
        self._rows = {
            (int(a), int(b)): i
            for i, (a, b) in enumerate(arrays['frame_ids'])
        }
        self._arrays = arrays

    def __len__(self) -> int:
        return len(self._rows)

    def describes(self, lidar_paths: Sequence[str], fingerprints: np.ndarray,
                  frame_gap: int) -> bool:
        """Whether the cache holds the pairs of gap ``frame_gap`` of these
        scans (relative paths and (N, 2) :func:`scan_fingerprint` rows)."""
        fingerprints = np.asarray(fingerprints).reshape(-1, 2)
        return (self.frame_gap == frame_gap
                and self._lidar_paths == list(lidar_paths)
                and np.array_equal(self._scan_bytes, fingerprints[:, 0])
                and np.array_equal(self._scan_crc, fingerprints[:, 1]))

    def _check_scan(self, frame: int, path: str) -> None:
        cached = self._lidar_paths[frame]
        if not osp.normpath(path).endswith(osp.normpath(cached)):
            raise kitti_error(
                'stale_cache', self.path,
                f'frame {frame} was {cached}, the sample reads '
                f'{path}; rebuild the cache')
        size, crc = scan_fingerprint(path)
        if size != self._scan_bytes[frame] or crc != self._scan_crc[frame]:
            raise kitti_error(
                'stale_cache', self.path,
                f'stale, {path} changed since the priors were '
                f'computed ({size} bytes, was {self._scan_bytes[frame]}); '
                f'rebuild it with {CACHE_TOOL} DATA_ROOT --force')

    def last_converged(self, frame_ids: Sequence[int]) -> Optional[np.ndarray]:
        """``T_L`` (4, 4) of the nearest pair before ``(t, t + k)`` along
        the sequence, ``(t - j, t - j + k)`` for ``j = 1, 2, ...``, whose
        registration converged (or whose pose the camera filled): the
        estimate a sequential registration predicts a failed pair from
        (each failed pair in between went on from its own prediction).
        None if there is none.
        """
        t, gap = int(frame_ids[0]), int(frame_ids[1]) - int(frame_ids[0])
        for first in range(t - 1, -1, -1):
            row = self._rows.get((first, first + gap))
            if row is None:
                return None
            if self._arrays['converged'][row] or self._filled(row):
                vec = self._arrays['pose'][row]
                return make_pose(so3_exp(vec[3:]), vec[:3])
        return None

    def _filled(self, row: int) -> bool:
        filled = self._arrays.get('filled')
        return filled is not None and bool(filled[row])

    def lookup(self, frame_ids: Sequence[int],
               lidar_paths: Sequence[str]) -> Tuple[np.ndarray, Dict]:
        """Cached motion of a frame pair after checking its two scans.

        Args:
            frame_ids (Sequence[int]): ``(t, t + k)``.
            lidar_paths (Sequence[str]): The scans the sample reads.

        Returns:
            tuple[np.ndarray, dict]: ``T_L`` (4, 4) and the registration's
            ``info`` (``converged``, ``iterations``,
            ``num_correspondences``, ``error``, ``hessian`` (6, 6),
            ``num_source_points``, ``deskew``, ``filled``).

        Raises:
            KittiFormatError: The pair is not in the cache, or a scan
                differs from the one registered.
        """
        key = (int(frame_ids[0]), int(frame_ids[1]))
        row = self._rows.get(key)
        if row is None:
            raise kitti_error(
                'missing_prior', self.path,
                f'no prior for frames {key} (cache of frame '
                f'gap {self.frame_gap}); rebuild it with {CACHE_TOOL} '
                f'DATA_ROOT --frame-gap {key[1] - key[0]}')
        for frame, path in zip(key, lidar_paths):
            self._check_scan(frame, path)
        a = self._arrays
        vec = a['pose'][row]
        info = dict(
            converged=bool(a['converged'][row]),
            iterations=int(a['iterations'][row]),
            num_correspondences=int(a['num_correspondences'][row]),
            error=float(a['error'][row]),
            hessian=a['hessian'][row],
            num_source_points=int(a['num_source_points'][row]),
            deskew=str(a['deskewed_with'][row]) or None,
            filled=self._filled(row))
        return make_pose(so3_exp(vec[3:]), vec[:3]), info
