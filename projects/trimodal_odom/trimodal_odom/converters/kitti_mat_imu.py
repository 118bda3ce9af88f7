"""The KITTI IMU MATLAB files as an IMU source of the converter, and the
converter's IMU-only mode.

``imu_source='mat'`` reads ``IMU_ROOT/XX.mat`` (format in
:mod:`.kitti_imu_io`) instead of the raw OXTS folders: window ``k`` holds
the 10 rows from frame ``k`` to frame ``k + 1``, rotated into the chosen
``imu_frame`` with the raw ``calib_imu_to_velo.txt`` when the raw root
holds it, else with the published value
(:data:`~.kitti_imu_io.KITTI_T_VELO_IMU`); the statistics and the dataset
are the same as for OXTS.  A sequence without its file (03 has no raw data)
is marked without IMU, as for OXTS.

IMU-only conversion (``imu_only=True``) needs only ``poses/XX.txt`` and the
IMU: images and scans are not checked, and where ``sequences/XX/calib.txt``
or ``times.txt`` is absent the published calibration of the sequence's
recording date (:data:`~.kitti_imu_io.KITTI_ODOM_TR`) and frames
``frame_period`` seconds apart are used; both are reported as warnings and
recorded in the info file (``metainfo['calib']['source']``,
``metainfo['times_source']``).
"""
import os.path as osp
from typing import Optional, Tuple

import numpy as np

from mmfusion.datasets import DataReport
from ..utils.kitti_io import KittiFormatError
from .kitti_drives import KITTI_ODOM_DRIVES
from .kitti_imu_io import (KITTI_ODOM_TR, KITTI_T_VELO_IMU, ROWS_PER_FRAME,
                           kitti_imu_windows, load_kitti_imu)
from .oxts_io import load_raw_rigid


def velo_imu_calibration(raw_calib: Optional[str],
                         report: DataReport) -> Tuple[np.ndarray, str]:
    """``T_velo_imu`` from ``calib_imu_to_velo.txt`` if present, else the
    published value.

    Args:
        raw_calib (str, optional): The raw ``calib_imu_to_velo.txt`` of the
            sequence's date, if it has one.
        report (DataReport): Report of the conversion (a malformed file is
            an error).

    Returns:
        tuple[np.ndarray, str]: The transform (4, 4) and where it came from.
    """
    if raw_calib is not None and osp.isfile(raw_calib):
        try:
            return load_raw_rigid(raw_calib), raw_calib
        except KittiFormatError as e:
            report.add_errors(e)
    return KITTI_T_VELO_IMU.copy(), 'published KITTI calib_imu_to_velo.txt'


def mat_imu_windows(path: str, seq: str, times: np.ndarray,
                    rotation: np.ndarray, offset: int,
                    report: DataReport) -> Tuple[list, dict]:
    """IMU windows of one sequence from its MATLAB file.

    Args:
        path (str): ``IMU_ROOT/XX.mat``.
        seq (str): Sequence name.
        times (np.ndarray): Frame times (N,).
        rotation (np.ndarray): Rotation (3, 3) from the IMU frame to the
            output frame.
        offset (int): Row offset of the windows (see
            :func:`~.kitti_imu_io.kitti_imu_windows`).
        report (DataReport): Report of the conversion.

    Returns:
        tuple[list, dict]: Per frame None or a window dict (``time`` (10,),
        ``acc`` / ``gyro`` (10, 3)), and the IMU metainfo entries
        ``available``, ``rate``, ``file``, ``row_offset`` and
        ``missing_reason``.
    """
    windows: list = [None] * len(times)
    meta = dict(available=False, file=path, row_offset=offset, rate=None)
    if not osp.isfile(path):
        report.warn('no_mat_imu', path,
                    f'file not found; IMU of sequence {seq} marked missing')
        report.count('sequences without IMU file')
        meta['missing_reason'] = f'IMU file {path} not found'
        return windows, meta
    try:
        imu = load_kitti_imu(path, len(times))
    except KittiFormatError as e:
        report.add_errors(e)
        return windows, meta
    windows = kitti_imu_windows(imu, times, rotation, offset)
    uncovered = sum(w is None for w in windows[:-1])
    if uncovered:
        report.warn(
            'imu_not_covered', path,
            f'{uncovered} frame intervals of sequence {seq} have no rows '
            f'with row offset {offset}; their IMU is marked missing')
        report.count('frame intervals without IMU coverage', uncovered)
    meta.update(
        available=any(w is not None for w in windows),
        rate=float(ROWS_PER_FRAME / np.mean(np.diff(times))),
        missing_reason=None)
    return windows, meta


def imu_only_calibration(seq: str, calib_path: str,
                         report: DataReport) -> Optional[dict]:
    """The published odometry calibration of a sequence without
    ``calib.txt``.

    Args:
        seq (str): Two-digit sequence name (its raw recording date picks
            the calibration).
        calib_path (str): The missing ``calib.txt`` (for the messages).
        report (DataReport): Report of the conversion.

    Returns:
        dict | None: ``Tr`` (4, 4), ``P2`` None and ``source``; None (an
        error recorded) if no calibration is published for the date.
    """
    date = KITTI_ODOM_DRIVES.get(seq, (None, ))[0]
    if date not in KITTI_ODOM_TR:
        report.error(
            'missing_calibration', calib_path,
            'file not found, and no published calibration for the '
            f'recording date {date} of sequence {seq} (known: '
            f'{sorted(KITTI_ODOM_TR)})')
        return None
    report.warn(
        'published_calibration', calib_path, 'file not found; IMU-only '
        f'conversion uses the published calibration of {date}')
    report.count('sequences with the published calibration (IMU-only)')
    return dict(
        Tr=KITTI_ODOM_TR[date].copy(),
        P2=None,
        source=f'published KITTI odometry calibration of {date}')


def imu_only_times(times_path: str, num_frames: int,
                   frame_period: Optional[float],
                   report: DataReport) -> Optional[np.ndarray]:
    """Frame times of a sequence without ``times.txt``.

    Args:
        times_path (str): The missing ``times.txt`` (for the messages).
        num_frames (int): Frames of the sequence (its poses).
        frame_period (float, optional): Seconds between two frames.
        report (DataReport): Report of the conversion.

    Returns:
        np.ndarray | None: Times (N,) ``i * frame_period``; None (an error
        recorded) without ``frame_period``.
    """
    if frame_period is None or not frame_period > 0:
        report.error(
            'missing_file', times_path, 'file not found; IMU-only conversion '
            'without times.txt needs frame_period (seconds between frames, '
            f'--frame-period), got {frame_period}')
        return None
    report.warn(
        'nominal_times', times_path, 'file not found; IMU-only conversion '
        f'places the frames {frame_period} s apart')
    report.count('sequences with nominal frame times (IMU-only)')
    return np.arange(num_frames) * float(frame_period)
