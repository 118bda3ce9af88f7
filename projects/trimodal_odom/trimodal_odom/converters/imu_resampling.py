"""IMU samples of every frame interval of a KITTI odometry sequence, from
the OXTS packets of its raw drive.

Conventions of the samples written to the infos:

* Channels are the OXTS body-frame accelerations ``ax ay az`` (m/s^2,
  gravity included) and angular rates ``wx wy wz`` (rad/s), columns 11-13
  and 17-19 of an OXTS line.
* ``imu_frame='lidar'`` (default) rotates both vectors into the Velodyne
  frame with the rotation of ``calib_imu_to_velo.txt`` (``v_velo = R v_imu``;
  lever-arm terms are ignored); ``'camera'`` further applies the rotation of
  ``Tr`` (camera 0); ``'imu'`` keeps the OXTS frame.  The LiDAR frame is
  the default because LiDAR yaw augmentation rotates the IMU vectors with
  the same matrix.
* Time alignment: odometry frame ``i`` is raw frame ``start + i`` of its
  drive (:data:`KITTI_ODOM_DRIVES`).  The offset between the OXTS wall
  clock and ``times.txt`` is ``ts_sync[start] - times[0]`` where
  ``ts_sync`` are the sync OXTS timestamps; every OXTS time (sync or
  extract) is shifted by it.  Residuals above ``align_tol`` seconds are
  reported as warnings.
* ``imu_source='extract'`` (~100 Hz): the samples of frame ``i`` lie on the
  grid ``times[i] + j / imu_rate`` for ``j = 0, 1, ...`` while below
  ``times[i + 1]``; each channel is linearly interpolated between the two
  surrounding extract packets (packets whose time does not increase are
  dropped and counted).  An interval not covered by extract data has no
  IMU (counted).  ``imu_source='sync'`` (10 Hz): frame ``i`` holds the one
  sync packet of raw frame ``start + i`` at time ``times[i]``.
* ``imu_source='mat'``: the KITTI IMU resampled to the frames,
  ``IMU_ROOT/XX.mat`` (10 rows a frame interval), instead of the OXTS
  folders (see :mod:`.kitti_mat_imu`).
* The last frame of a sequence has no following frame and no IMU window.
"""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from mmfusion.datasets import DataReport
from ..utils.kitti_io import KittiFormatError
from .kitti_drives import KITTI_ODOM_DRIVES, drive_dirs
from .kitti_mat_imu import mat_imu_windows, velo_imu_calibration
from .oxts_io import load_oxts_packets, load_oxts_timestamps, load_raw_rigid

_ACC_COLS = [11, 12, 13]
_GYRO_COLS = [17, 18, 19]
#: Per frame: None or ``dict(time=(M, ), acc=(M, 3), gyro=(M, 3))``.
Windows = List[Optional[dict]]


def imu_rotation(imu_frame: str, T_velo_imu: np.ndarray,
                 Tr: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) from the OXTS body frame into ``imu_frame``."""
    if imu_frame == 'imu':
        return np.eye(3)
    if imu_frame == 'lidar':
        return T_velo_imu[:3, :3]
    if imu_frame == 'camera':
        return Tr[:3, :3] @ T_velo_imu[:3, :3]
    raise ValueError(
        f"imu_frame must be 'imu', 'lidar' or 'camera', got {imu_frame!r}")


def read_oxts(oxts_dir: str,
              report: DataReport) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """OXTS timestamps (N, ) and packets (N, 30) of one ``oxts`` folder,
    or None (the problems of both recorded in ``report``)."""
    ts_path = osp.join(oxts_dir, 'timestamps.txt')
    data_dir = osp.join(oxts_dir, 'data')
    loaded = []
    for load, path in ((load_oxts_timestamps, ts_path), (load_oxts_packets,
                                                         data_dir)):
        try:
            loaded.append(load(path))
        except KittiFormatError as e:
            report.add_errors(e)
    if len(loaded) < 2:
        return None
    stamps, packets = loaded
    if len(stamps) != len(packets):
        report.error(
            'count_mismatch', ts_path,
            f'{len(stamps)} timestamps but {len(packets)} packets in '
            f'{data_dir}')
        return None
    return stamps, packets


def _no_raw_reason(seq: str, raw_root: str, dirs: Optional[dict],
                   report: DataReport) -> Optional[str]:
    """Why sequence ``seq`` has no raw IMU (warned and counted), or None
    if its raw OXTS folder is there."""
    if dirs is None:
        reason = (f'sequence {seq} has no KITTI raw drive'
                  if seq not in KITTI_ODOM_DRIVES else
                  f'sequence {seq}: no raw data was released for '
                  f'{KITTI_ODOM_DRIVES[seq][0]}_drive_'
                  f'{KITTI_ODOM_DRIVES[seq][1]}')
        report.warn('no_raw_imu', raw_root, reason + '; IMU marked missing')
    elif not osp.isdir(dirs['sync']):
        reason = f'raw OXTS folder {dirs["sync"]} not found'
        report.warn('no_raw_imu', dirs['sync'],
                    f'folder not found; IMU of sequence {seq} marked missing')
    else:
        return None
    report.count('sequences without raw IMU data')
    return reason


def align_to_frames(ts_sync: np.ndarray, start: int, times: np.ndarray,
                    seq: str, ts_path: str, align_tol: float,
                    report: DataReport) -> Optional[float]:
    """Offset (s) of the OXTS clock to ``times.txt``, None if the drive
    has too few packets; residuals above ``align_tol`` are warned."""
    n = len(times)
    if len(ts_sync) < start + n:
        report.error(
            'count_mismatch', ts_path,
            f'{len(ts_sync)} OXTS packets, but sequence {seq} needs raw '
            f'frames {start}..{start + n - 1}')
        return None
    offset = float(ts_sync[start] - times[0])
    residual = np.abs(ts_sync[start:start + n] - offset - times)
    if residual.max() > align_tol:
        worst = int(residual.argmax())
        report.warn(
            'misaligned_time', ts_path,
            f'OXTS time differs from times.txt by {residual[worst]:.3f} s '
            f'at frame {worst} (tolerance {align_tol} s)', start + worst + 1)
        report.count('sequences with OXTS / times.txt misalignment')
    return offset


def sync_windows(packets: np.ndarray, start: int, times: np.ndarray,
                 R: np.ndarray) -> Windows:
    """One sync packet per frame interval (the packet of its first
    frame)."""
    n = len(times)
    acc = packets[start:start + n][:, _ACC_COLS] @ R.T
    gyro = packets[start:start + n][:, _GYRO_COLS] @ R.T
    windows: Windows = [None] * n
    for i in range(n - 1):
        windows[i] = dict(
            time=times[i:i + 1].copy(), acc=acc[i:i + 1], gyro=gyro[i:i + 1])
    return windows


def drop_non_increasing(stamps: np.ndarray, ts_path: str,
                        report: DataReport) -> np.ndarray:
    """Mask (N, ) of the packets whose time increases over every earlier
    one; the others are warned and counted."""
    keep = np.ones(len(stamps), dtype=bool)
    last = -np.inf
    for j, t in enumerate(stamps):
        if t <= last:
            keep[j] = False
        else:
            last = t
    if not keep.all():
        dropped = int((~keep).sum())
        report.warn(
            'time_not_increasing', ts_path,
            f'{dropped} extract packets whose time does not increase were '
            'dropped',
            int(np.flatnonzero(~keep)[0]) + 1)
        report.count('extract OXTS packets dropped (time not increasing)',
                     dropped)
    return keep


def extract_windows(stamps: np.ndarray, packets: np.ndarray, times: np.ndarray,
                    R: np.ndarray, imu_rate: float, max_gap: float, where: str,
                    seq: str, report: DataReport) -> Windows:
    """Extract packets (times already on the ``times.txt`` clock)
    interpolated on a grid of ``imu_rate`` Hz in every frame interval."""
    channels = np.concatenate(
        [packets[:, _ACC_COLS] @ R.T, packets[:, _GYRO_COLS] @ R.T], axis=1)
    windows: Windows = [None] * len(times)
    uncovered = gapped = 0
    for i in range(len(times) - 1):
        t0, t1 = times[i], times[i + 1]
        m = max(int(np.ceil((t1 - t0) * imu_rate - 1e-6)), 1)
        grid = t0 + np.arange(m) / imu_rate
        if len(stamps) < 2 or grid[0] < stamps[0] or grid[-1] > stamps[-1]:
            uncovered += 1
            continue
        right = np.clip(
            np.searchsorted(stamps, grid, 'right'), 1,
            len(stamps) - 1)
        gapped += int(((stamps[right] - stamps[right - 1]) > max_gap).sum())
        values = np.stack(
            [np.interp(grid, stamps, channels[:, c]) for c in range(6)],
            axis=1)
        windows[i] = dict(time=grid, acc=values[:, :3], gyro=values[:, 3:])
    if uncovered:
        report.warn(
            'imu_not_covered', where,
            f'{uncovered} frame intervals of sequence {seq} are not covered '
            'by extract data; their IMU is marked missing')
        report.count('frame intervals without IMU coverage', uncovered)
    if gapped:
        report.warn(
            'imu_gap', where,
            f'{gapped} IMU samples of sequence {seq} interpolated across '
            f'gaps > {max_gap} s')
        report.count(f'IMU samples interpolated across gaps > {max_gap} s',
                     gapped)
    return windows


def imu_windows(seq: str,
                times: np.ndarray,
                Tr: np.ndarray,
                raw_root: str,
                imu_source: str,
                imu_frame: str,
                imu_rate: float,
                align_tol: float,
                max_gap: float,
                report: DataReport,
                imu_root: Optional[str] = None,
                imu_offset: int = 0) -> Tuple[Windows, dict]:
    """IMU samples of every frame interval of one sequence.

    Args:
        imu_root (str, optional): Folder of the ``XX.mat`` files of
            ``imu_source='mat'``.
        imu_offset (int): Row offset of the ``'mat'`` windows (see
            :func:`~.kitti_imu_io.kitti_imu_windows`). Defaults to 0.
        Others: as :func:`~.kitti_odom_infos.convert_sequence`.

    Returns:
        tuple[list, dict]: Per frame ``None`` or a dict with ``time`` (M,),
        ``acc`` (M, 3) and ``gyro`` (M, 3); and the IMU metainfo.
    """
    if imu_source not in ('extract', 'sync', 'mat'):
        raise ValueError("imu_source must be 'extract', 'sync' or 'mat', "
                         f'got {imu_source!r}')
    no_imu: Windows = [None] * len(times)
    meta = dict(
        available=False,
        source=imu_source,
        frame=imu_frame,
        rate=imu_rate if imu_source == 'extract' else None,
        missing_reason=None,
        T_velo_imu=None)
    dirs = drive_dirs(raw_root, seq)
    if imu_source == 'mat':
        T_velo_imu, meta['calib_source'] = velo_imu_calibration(
            dirs and dirs['imu_to_velo'], report)
        windows, mat_meta = mat_imu_windows(
            osp.join(imu_root, f'{seq}.mat'), seq, times,
            imu_rotation(imu_frame, T_velo_imu, Tr), imu_offset, report)
        meta.update(mat_meta, T_velo_imu=T_velo_imu.tolist())
        return windows, meta
    meta['missing_reason'] = _no_raw_reason(seq, raw_root, dirs, report)
    if meta['missing_reason'] is not None:
        return no_imu, meta
    date, drive, start = KITTI_ODOM_DRIVES[seq][:3]
    meta.update(drive=f'{date}_drive_{drive}', start_frame=start)
    rigid = []
    for path in (dirs['imu_to_velo'], dirs['velo_to_cam']):
        try:
            rigid.append(load_raw_rigid(path))
        except KittiFormatError as e:
            report.add_errors(e)
    # Every file is read and checked even when an earlier one failed, so
    # that one run reports all problems; windows need all of them.
    sync = read_oxts(dirs['sync'], report)
    extract = None
    if imu_source == 'extract':
        if osp.isdir(dirs['extract']):
            extract = read_oxts(dirs['extract'], report)
        else:
            report.error(
                'missing_folder', dirs['extract'], "folder not found (needed "
                "by imu_source='extract'; use 'sync' for the 10 Hz packets)")
    if len(rigid) < 2 or sync is None or (imu_source == 'extract'
                                          and extract is None):
        return no_imu, meta
    T_velo_imu = rigid[0]
    R = imu_rotation(imu_frame, T_velo_imu, Tr)
    meta['T_velo_imu'] = T_velo_imu.tolist()

    offset = align_to_frames(sync[0], start, times, seq,
                             osp.join(dirs['sync'], 'timestamps.txt'),
                             align_tol, report)
    if offset is None:
        return no_imu, meta
    meta['time_offset'] = offset
    if imu_source == 'sync':
        windows = sync_windows(sync[1], start, times, R)
    else:
        stamps = extract[0] - offset
        keep = drop_non_increasing(stamps,
                                   osp.join(dirs['extract'], 'timestamps.txt'),
                                   report)
        windows = extract_windows(stamps[keep], extract[1][keep], times, R,
                                  imu_rate, max_gap, dirs['extract'], seq,
                                  report)
    meta['available'] = any(w is not None for w in windows)
    return windows, meta
