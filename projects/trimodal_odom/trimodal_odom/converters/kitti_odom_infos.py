"""Odometry info files from a KITTI odometry + raw (OXTS) layout.

Layout read::

    ROOT/sequences/XX/{image_2/NNNNNN.png, velodyne/NNNNNN.bin,
                       calib.txt, times.txt}
    ROOT/poses/XX.txt
    RAW/<date>/<date>_drive_<NNNN>_sync/oxts/{data/*.txt, timestamps.txt}
    RAW/<date>/<date>_drive_<NNNN>_extract/oxts/{data/*.txt, timestamps.txt}
    RAW/<date>/calib_imu_to_velo.txt, calib_velo_to_cam.txt
    IMU_ROOT/XX.mat      (imu_source='mat'; IMU_ROOT: ROOT/imus)

With ``imu_only`` only ``poses/XX.txt`` and the IMU are needed (see
:mod:`.kitti_mat_imu`).

Written: ``OUT/kitti_odom_infos_XX.pkl`` per sequence (the format of
:mod:`..datasets.odom_info_file`, read by ``KittiOdometryDataset``) and
``OUT/imu_stats.json``. The IMU frame, resampling and time alignment are
described in :mod:`.imu_resampling`.

Sequences are checked and converted one a task, in ``nproc`` processes
behind a progress bar with the time left (:func:`mmfusion.utils.progress.
track_tasks`); each has its own report, merged in the order of the
sequences, so the problems reported and the files written are the same for
any ``nproc``.
"""
import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import mmengine
import numpy as np
from mmengine.logging import print_log

from mmfusion.datasets import DataReport
from mmfusion.utils.fileio import atomic_open, atomic_write_text
from mmfusion.utils.progress import track_tasks
from ..datasets.odom_info_file import (INFO_VERSION, info_file_name,
                                       parse_sequences)
from ..utils.kitti_io import (KittiFormatError, kitti_error, kitti_report,
                              load_calib, load_poses, load_times)
from .imu_resampling import imu_windows
from .imu_statistics import compute_imu_stats
from .kitti_integrity import check_frame_files
from .kitti_mat_imu import imu_only_calibration, imu_only_times


def convert_sequence(root: str,
                     seq: str,
                     raw_root: Optional[str] = None,
                     imu_source: str = 'extract',
                     imu_frame: str = 'lidar',
                     imu_rate: float = 100.0,
                     align_tol: float = 0.05,
                     max_gap: float = 0.1,
                     deep: bool = False,
                     report: Optional[DataReport] = None,
                     imu_root: Optional[str] = None,
                     imu_offset: int = 0,
                     imu_only: bool = False,
                     frame_period: Optional[float] = None) -> Optional[dict]:
    """Build the info dict of one sequence, recording problems in a report.

    Every file of the sequence is checked, also after a problem in another
    one (a bad pose file does not hide a bad point cloud): the calibration,
    times and poses (every line), every image (decoded) and point cloud
    (sized; with ``deep`` also read) of the frames that ``times.txt`` lists
    (the pose file, when ``times.txt`` does not load), and the IMU files
    (the raw OXTS files also without the calibration).

    Args:
        root (str): KITTI odometry root (holds ``sequences/`` and
            ``poses/``).
        seq (str): Two-digit sequence name.
        raw_root (str, optional): KITTI raw root. Defaults to
            ``ROOT/raw``.
        imu_source (str): ``'extract'`` (~100 Hz, resampled), ``'sync'``
            (10 Hz) or ``'mat'`` (the KITTI IMU files of ``imu_root``).
            Defaults to 'extract'.
        imu_frame (str): ``'lidar'``, ``'imu'`` or ``'camera'``. Defaults
            to 'lidar'.
        imu_rate (float): Rate of the resampling grid of extract data (Hz).
            Defaults to 100.
        align_tol (float): Largest OXTS / times.txt residual (s) accepted
            without a warning. Defaults to 0.05.
        max_gap (float): Extract packet gaps (s) above which interpolated
            samples are counted. Defaults to 0.1.
        deep (bool): Also read every point cloud and check for NaN / inf.
            Defaults to False.
        report (DataReport, optional): Report to fill.
        imu_root (str, optional): Folder of the ``XX.mat`` files of
            ``imu_source='mat'``. Defaults to ``ROOT/imus``.
        imu_offset (int): Row offset of the ``'mat'`` windows (positive:
            later rows; see :func:`~.kitti_imu_io.kitti_imu_windows`).
            Defaults to 0.
        imu_only (bool): Convert without images and scans (neither is
            checked; the dataset then refuses camera and LiDAR); a missing
            ``calib.txt`` / ``times.txt`` is replaced by the published
            calibration / ``frame_period``. Defaults to False.
        frame_period (float, optional): Seconds between frames of an
            IMU-only sequence without ``times.txt``. Defaults to None.

    Returns:
        dict | None: ``{'metainfo': ..., 'data_list': [...]}`` in the
        mmengine ``BaseDataset`` format, or None if the sequence has errors
        (recorded in ``report``).
    """
    report = kitti_report() if report is None else report
    raw_root = osp.join(root, 'raw') if raw_root is None else raw_root
    imu_root = osp.join(root, 'imus') if imu_root is None else imu_root
    seq_dir = osp.join(root, 'sequences', seq)
    if not osp.isdir(seq_dir) and not imu_only:
        report.error('missing_sequence', seq_dir,
                     f'sequence {seq} not found (searched {seq_dir})')
        return None
    n_errors = len(report.errors)
    loaded, times_source = _load_sequence_files(root, seq, report, imu_only,
                                                frame_period)
    times = loaded.get('times')
    # The frames are those of times.txt, else of the pose file.
    frames = loaded.get('times', loaded.get('poses'))
    if frames is not None and not imu_only:
        check_frame_files(root, seq, len(frames), report, deep)
    if times is not None:
        # Without the calibration the OXTS files are still checked.
        Tr = loaded['calib']['Tr'] if 'calib' in loaded else np.eye(4)
        windows, imu_meta = imu_windows(seq, times, Tr, raw_root, imu_source,
                                        imu_frame, imu_rate, align_tol,
                                        max_gap, report, imu_root, imu_offset)
    if len(report.errors) > n_errors:
        return None
    return _sequence_info(seq, times, loaded.get('poses'), loaded['calib'],
                          windows, imu_meta, imu_only, times_source)


def _sequence_info(seq: str, times: np.ndarray, poses: Optional[np.ndarray],
                   calib: dict, windows: list, imu_meta: dict, imu_only: bool,
                   times_source: str) -> dict:
    """The info dict of a sequence whose files loaded without problems
    (``poses`` None: a sequence without ground truth, every ``pose`` None
    and ``has_poses`` False)."""
    data_list = [
        dict(
            frame_id=i,
            timestamp=float(times[i]),
            img_path=f'sequences/{seq}/image_2/{i:06d}.png',
            lidar_path=f'sequences/{seq}/velodyne/{i:06d}.bin',
            pose=None if poses is None else poses[i].tolist(),
            imu=windows[i]) for i in range(len(times))
    ]
    metainfo = dict(
        dataset='KITTI odometry',
        info_version=INFO_VERSION,
        seq=seq,
        num_frames=len(times),
        has_poses=poses is not None,
        imu_only=imu_only,
        times_source=times_source,
        calib=dict(
            Tr=calib['Tr'].tolist(),
            P2=None if calib['P2'] is None else calib['P2'].tolist(),
            T_velo_imu=imu_meta.pop('T_velo_imu'),
            source=calib.get('source', 'calib.txt')),
        imu=imu_meta)
    return dict(metainfo=metainfo, data_list=data_list)


def _load_sequence_files(root: str,
                         seq: str,
                         report: DataReport,
                         imu_only: bool = False,
                         frame_period: Optional[float] = None
                         ) -> Tuple[dict, str]:
    """``calib``, ``times`` (N, ) and ``poses`` (N, 4, 4) of one sequence,
    those that load (the problems of all recorded in ``report``), and where
    its times come from.  IMU-only, a missing ``calib.txt`` or
    ``times.txt`` is replaced (:func:`imu_only_calibration`,
    :func:`imu_only_times`); otherwise a sequence without a pose file (as
    KITTI 11-21) loads without ``poses``, with a warning."""
    seq_dir = osp.join(root, 'sequences', seq)
    calib_path = osp.join(seq_dir, 'calib.txt')
    times_path = osp.join(seq_dir, 'times.txt')
    pose_path = osp.join(root, 'poses', f'{seq}.txt')
    loaded = {}
    files = dict(
        calib=(load_calib, calib_path),
        times=(load_times, times_path),
        poses=(load_poses, pose_path))
    if not imu_only and not osp.isfile(pose_path):
        del files['poses']
        report.warn(
            'no_poses', pose_path, f'sequence {seq} has no ground-truth '
            'poses: converted without targets (for self-supervised use)')
    for key, (fn, path) in files.items():
        if imu_only and key != 'poses' and not osp.isfile(path):
            continue  # replaced below
        try:
            loaded[key] = fn(path)
        except KittiFormatError as e:
            report.add_errors(e)
    times_source = 'times.txt'
    if imu_only and 'poses' in loaded:
        if not osp.isfile(calib_path):
            calib = imu_only_calibration(seq, calib_path, report)
            if calib is not None:
                loaded['calib'] = calib
        if not osp.isfile(times_path):
            times = imu_only_times(times_path, len(loaded['poses']),
                                   frame_period, report)
            if times is not None:
                loaded['times'] = times
                times_source = f'frames {frame_period} s apart'
    if 'poses' in loaded and 'times' in loaded and len(loaded['poses']) != len(
            loaded['times']):
        report.error(
            'count_mismatch', pose_path, f'{len(loaded["poses"])} poses but '
            f'{len(loaded["times"])} frames in {times_path}')
    return loaded, times_source


def list_sequences(root: str,
                   imu_only: bool = False,
                   imu_root: Optional[str] = None) -> List[str]:
    """Sequences of ``ROOT/sequences`` that have a ground-truth pose file;
    with ``imu_only``, those of ``ROOT/poses`` that have an IMU file
    ``imu_root/XX.mat`` (every one if ``imu_root`` is None).

    Raises:
        KittiFormatError: If ``root`` or the folder searched does not
            exist, or no sequence is found.
    """
    check_root(root)
    if imu_only:
        pose_root = osp.join(root, 'poses')
        if not osp.isdir(pose_root):
            raise kitti_error('missing_folder', pose_root, 'folder not found')
        names = [f[:-4] for f in os.listdir(pose_root) if f.endswith('.txt')]
        seqs = sorted(s for s in names if s.isdigit() and (
            imu_root is None or osp.isfile(osp.join(imu_root, f'{s}.mat'))))
        if not seqs:
            raise kitti_error(
                'no_sequences', pose_root,
                'no sequence to convert: no pose file XX.txt' +
                ('' if imu_root is None else
                 f' with an IMU file {osp.join(imu_root, "XX.mat")}'))
        return seqs
    seq_root = osp.join(root, 'sequences')
    if not osp.isdir(seq_root):
        raise kitti_error('missing_folder', seq_root, 'folder not found')
    folders = sorted(d for d in os.listdir(seq_root) if d.isdigit())
    seqs = [
        d for d in folders if osp.isfile(osp.join(root, 'poses', f'{d}.txt'))
    ]
    if not seqs:
        raise kitti_error(
            'no_sequences', seq_root,
            f'no sequence to convert: {len(folders)} sequence folders, none '
            f'with a pose file {osp.join(root, "poses", "XX.txt")}; name '
            'the sequences (--sequences) to check those without poses')
    return seqs


def resolve_sequences(root: str,
                      sequences=None,
                      imu_only: bool = False,
                      imu_root: Optional[str] = None) -> List[str]:
    """The sequences to convert: ``sequences`` normalised, or every
    sequence with a pose file (see :func:`list_sequences`).

    Raises:
        KittiFormatError: If ``root`` does not exist or (without
            ``sequences``) holds no sequence with a pose file.
        ValueError: If ``sequences`` names no valid sequence.
    """
    if sequences is None:
        return list_sequences(root, imu_only, imu_root)
    seqs = parse_sequences(sequences)
    check_root(root)
    return seqs


def check_root(root: str, what: str = 'KITTI odometry root') -> None:
    """Raise :class:`KittiFormatError` naming ``root`` if it is not a
    folder."""
    if not osp.isdir(root):
        raise kitti_error('missing_root', root,
                          f'{what} not found (no such folder)')


def _imu_root(root: str, kwargs: dict) -> Optional[str]:
    """The folder of the ``XX.mat`` IMU files a conversion reads, if any."""
    if kwargs.get('imu_source') != 'mat':
        return None
    return kwargs.get('imu_root') or osp.join(root, 'imus')


def _check_sequence(
    task: Tuple[str, str, Optional[str], bool, dict]
) -> Tuple[Optional[dict], DataReport]:
    """:func:`convert_sequence` of one task ``(root, seq, raw_root, deep,
    options)`` with a report of its own: the info dict (or None) and the
    report."""
    root, seq, raw_root, deep, options = task
    report = kitti_report()
    info = convert_sequence(
        root, seq, raw_root, deep=deep, report=report, **options)
    return info, report


def check_kitti_integrity(root: str,
                          raw_root: Optional[str] = None,
                          sequences=None,
                          deep: bool = False,
                          nproc: int = 1,
                          progress: bool = True,
                          **kwargs) -> Tuple[DataReport, List[dict]]:
    """Check a KITTI odometry (+ raw) layout without writing anything.

    Every sequence is checked, also after problems in another, and the
    report lists the problems of all of them.

    Args:
        root (str): KITTI odometry root.
        raw_root (str, optional): KITTI raw root. Defaults to ``ROOT/raw``
            (where a missing folder only means no IMU); a given raw root
            must exist.
        sequences (str | list, optional): Sequences to check. Defaults to
            every sequence with a pose file (IMU-only from IMU files: and
            an IMU file).
        deep (bool): Also read every point cloud and check for NaN / inf.
            Defaults to False.
        nproc (int): Processes checking sequences in parallel. Defaults
            to 1.
        progress (bool): Show a progress bar (a step a sequence, with the
            time left). Defaults to True.
        **kwargs: Options of :func:`convert_sequence`.

    Returns:
        tuple[DataReport, list[dict]]: The report and the info dicts
        of the sequences without errors.

    Raises:
        KittiFormatError: If a root does not exist or no sequence is found.
        ValueError: If ``sequences`` names no valid sequence.
    """
    seqs = resolve_sequences(root, sequences, kwargs.get('imu_only', False),
                             _imu_root(root, kwargs))
    if raw_root is not None:
        check_root(raw_root, 'KITTI raw root')
    report = kitti_report()
    infos = []
    tasks = [(root, seq, raw_root, deep, kwargs) for seq in seqs]
    for info, seq_report in track_tasks(
            _check_sequence,
            tasks,
            nproc,
            desc=f'checking {len(seqs)} sequences of {root}',
            progress=progress):
        report.merge(seq_report)
        if info is not None:
            infos.append(info)
    return report, infos


def create_kitti_odom_infos(root: str,
                            raw_root: Optional[str] = None,
                            sequences=None,
                            out_dir: Optional[str] = None,
                            stats_sequences=None,
                            **kwargs) -> Tuple[DataReport, List[str]]:
    """Convert sequences into info files and IMU statistics.

    Writes ``OUT/kitti_odom_infos_XX.pkl`` per sequence and
    ``OUT/imu_stats.json`` (mean / std per IMU channel over
    ``stats_sequences``).  Nothing is written when any error is found.

    Args:
        root (str): KITTI odometry root.
        raw_root (str, optional): KITTI raw root. Defaults to ``ROOT/raw``.
        sequences (str | list, optional): Sequences to convert. Defaults to
            every sequence with a pose file.
        out_dir (str, optional): Output folder. Defaults to ``ROOT/infos``.
        stats_sequences (str | list, optional): Sequences the IMU
            statistics are computed on (use the training split). Defaults
            to all converted sequences.
        **kwargs: ``nproc``, ``progress`` and ``deep`` of
            :func:`check_kitti_integrity` and the options of
            :func:`convert_sequence`.

    Returns:
        tuple[DataReport, list[str]]: The report and written files.

    Raises:
        KittiFormatError: Listing every problem found, if any.
        ValueError: If ``sequences`` or ``stats_sequences`` name no valid
            sequence, or ``stats_sequences`` one not converted.
    """
    seqs = resolve_sequences(root, sequences, kwargs.get('imu_only', False),
                             _imu_root(root, kwargs))
    stats_seqs = (None if stats_sequences is None else
                  parse_sequences(stats_sequences))
    unknown = [s for s in stats_seqs or () if s not in seqs]
    if unknown:
        raise ValueError(f'stats sequences {",".join(unknown)} are not among '
                         f'the converted sequences {",".join(seqs)}')
    report, infos = check_kitti_integrity(root, raw_root, seqs, **kwargs)
    report.log()
    report.raise_if_errors()
    out_dir = osp.join(root, 'infos') if out_dir is None else out_dir
    mmengine.mkdir_or_exist(out_dir)
    written = []
    for info in infos:
        path = osp.join(out_dir, info_file_name(info['metainfo']['seq']))
        with atomic_open(path, 'wb') as f:
            mmengine.dump(info, f, file_format='pkl')
        written.append(path)
        n_imu = sum(f['imu'] is not None for f in info['data_list'])
        print_log(
            f'sequence {info["metainfo"]["seq"]}: '
            f'{info["metainfo"]["num_frames"]} frames, {n_imu} with IMU '
            f'-> {path}',
            logger='current')
    chosen = [
        info for info in infos
        if stats_seqs is None or info['metainfo']['seq'] in stats_seqs
    ]
    stats = compute_imu_stats(chosen)
    if stats is None:
        print_log(
            'no IMU sample in the converted sequences: '
            'imu_stats.json not written',
            logger='current',
            level=30)
    else:
        path = osp.join(out_dir, 'imu_stats.json')
        atomic_write_text(path, json.dumps(stats, indent=2))
        written.append(path)
    return report, written
