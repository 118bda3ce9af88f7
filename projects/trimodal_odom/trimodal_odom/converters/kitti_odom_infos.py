"""Build odometry info files from a KITTI odometry + raw (OXTS) layout.

Layout read::

    ROOT/sequences/XX/{image_2/NNNNNN.png, velodyne/NNNNNN.bin,
                       calib.txt, times.txt}
    ROOT/poses/XX.txt
    RAW/<date>/<date>_drive_<NNNN>_sync/oxts/{data/*.txt, timestamps.txt}
    RAW/<date>/<date>_drive_<NNNN>_extract/oxts/{data/*.txt, timestamps.txt}
    RAW/<date>/calib_imu_to_velo.txt, calib_velo_to_cam.txt

IMU conventions written to the infos:

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
  drive (table :data:`KITTI_ODOM_DRIVES`).  The offset between the OXTS
  wall clock and ``times.txt`` is ``ts_sync[start] - times[0]`` where
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
* The last frame of a sequence has no following frame and no IMU window.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine
import numpy as np
from mmengine.logging import print_log

from ..datasets.integrity_report import IntegrityReport
from ..utils.kitti_io import (KittiFormatError, load_calib, load_poses,
                              load_times)
from .oxts_io import load_oxts_packets, load_oxts_timestamps, load_raw_rigid

# Odometry sequence -> (date, drive, first raw frame, last raw frame,
# raw data released).
KITTI_ODOM_DRIVES: Dict[str, Tuple[str, str, int, int, bool]] = {
    '00': ('2011_10_03', '0027', 0, 4540, True),
    '01': ('2011_10_03', '0042', 0, 1100, True),
    '02': ('2011_10_03', '0034', 0, 4660, True),
    '03': ('2011_09_26', '0067', 0, 800, False),
    '04': ('2011_09_30', '0016', 0, 270, True),
    '05': ('2011_09_30', '0018', 0, 2760, True),
    '06': ('2011_09_30', '0020', 0, 1100, True),
    '07': ('2011_09_30', '0027', 0, 1100, True),
    '08': ('2011_09_30', '0028', 1100, 5170, True),
    '09': ('2011_09_30', '0033', 0, 1590, True),
    '10': ('2011_09_30', '0034', 0, 1200, True),
}

IMU_CHANNELS = ('acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z')
_ACC_COLS = [11, 12, 13]
_GYRO_COLS = [17, 18, 19]
INFO_VERSION = '1.0'


def parse_sequences(sequences: Union[str, int,
                                     Sequence[Union[str, int]]]) -> List[str]:
    """Normalise sequence names to zero-padded two-digit strings.

    Args:
        sequences (str | int | Sequence[str | int]): ``'00,01,2'``,
            ``[0, 1]``, ``['00', '1']`` or a single value.

    Returns:
        list[str]: e.g. ``['00', '01', '02']``, order kept, duplicates
        removed.
    """
    if isinstance(sequences, (str, int)):
        sequences = str(sequences).split(',')
    out = []
    for item in sequences:
        name = str(item).strip()
        if not name:
            continue
        if not name.isdigit():
            raise ValueError(
                f'invalid KITTI sequence {item!r} in {sequences!r}: '
                'expected a number such as 0, "00" or "07"')
        name = f'{int(name):02d}'
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f'no sequence given in {sequences!r}')
    return out


def info_file_name(seq: str) -> str:
    """File name of the info file of sequence ``seq``."""
    return f'kitti_odom_infos_{seq}.pkl'


def drive_dirs(raw_root: str, seq: str) -> Optional[Dict[str, str]]:
    """Raw paths of an odometry sequence, or None if it has no raw drive.

    Returns:
        dict | None: ``date_dir``, ``sync`` and ``extract`` (the ``oxts``
        folders), ``imu_to_velo`` and ``velo_to_cam`` calibration files.
    """
    entry = KITTI_ODOM_DRIVES.get(seq)
    if entry is None or not entry[4]:
        return None
    date, drive = entry[:2]
    date_dir = osp.join(raw_root, date)
    name = f'{date}_drive_{drive}'
    return dict(
        date_dir=date_dir,
        sync=osp.join(date_dir, f'{name}_sync', 'oxts'),
        extract=osp.join(date_dir, f'{name}_extract', 'oxts'),
        imu_to_velo=osp.join(date_dir, 'calib_imu_to_velo.txt'),
        velo_to_cam=osp.join(date_dir, 'calib_velo_to_cam.txt'))


def _check_frame_files(root: str, seq: str, n: int,
                       report: IntegrityReport) -> None:
    """Check that every frame has an image and a well-sized cloud."""
    seq_dir = osp.join(root, 'sequences', seq)
    for sub, ext in (('image_2', 'png'), ('velodyne', 'bin')):
        folder = osp.join(seq_dir, sub)
        if not osp.isdir(folder):
            report.error(folder, f'folder missing ({n} frames expected)')
            continue
        names = set(os.listdir(folder))
        missing = [i for i in range(n) if f'{i:06d}.{ext}' not in names]
        for i in missing[:20]:
            report.error(osp.join(folder, f'{i:06d}.{ext}'), 'file missing')
        if len(missing) > 20:
            report.error(folder, f'{len(missing)} files missing in all')
        extra = len(names) - (n - len(missing))
        if extra > 0:
            report.warn(
                folder, f'{extra} files beyond the {n} frames of '
                'times.txt are ignored')
            report.count(f'{sub} files ignored (beyond times.txt)', extra)
        if ext == 'bin':
            for i in range(n):
                path = osp.join(folder, f'{i:06d}.bin')
                if f'{i:06d}.bin' in names:
                    size = osp.getsize(path)
                    if size == 0:
                        report.error(path,
                                     'file is empty (0 bytes, no points)')
                    elif size % 16:
                        report.error(
                            path, f'{size} bytes is not a multiple of 16 '
                            '(float32 x, y, z, reflectance)')


def _imu_rotation(imu_frame: str, T_velo_imu: np.ndarray,
                  Tr: np.ndarray) -> np.ndarray:
    if imu_frame == 'imu':
        return np.eye(3)
    if imu_frame == 'lidar':
        return T_velo_imu[:3, :3]
    if imu_frame == 'camera':
        return Tr[:3, :3] @ T_velo_imu[:3, :3]
    raise ValueError(
        f"imu_frame must be 'imu', 'lidar' or 'camera', got {imu_frame!r}")


def _read_oxts(oxts_dir: str, report: IntegrityReport
               ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """Read OXTS timestamps and packets of one ``oxts`` folder."""
    ts_path = osp.join(oxts_dir, 'timestamps.txt')
    data_dir = osp.join(oxts_dir, 'data')
    try:
        stamps = load_oxts_timestamps(ts_path)
        packets = load_oxts_packets(data_dir)
    except KittiFormatError as e:
        report.add_exception(e)
        return None
    if len(stamps) != len(packets):
        report.error(
            ts_path, f'{len(stamps)} timestamps but {len(packets)} packets '
            f'in {data_dir}')
        return None
    return stamps, packets


def _imu_windows(seq: str, times: np.ndarray, Tr: np.ndarray, raw_root: str,
                 imu_source: str, imu_frame: str, imu_rate: float,
                 align_tol: float, max_gap: float,
                 report: IntegrityReport) -> Tuple[list, dict]:
    """IMU samples of every frame interval of one sequence.

    Returns:
        tuple[list, dict]: Per frame ``None`` or a dict with ``time`` (M,),
        ``acc`` (M, 3) and ``gyro`` (M, 3); and the IMU metainfo.
    """
    n = len(times)
    windows: list = [None] * n
    meta = dict(
        available=False,
        source=imu_source,
        frame=imu_frame,
        rate=imu_rate if imu_source == 'extract' else None,
        missing_reason=None,
        T_velo_imu=None)
    dirs = drive_dirs(raw_root, seq)
    if dirs is None:
        reason = (f'sequence {seq} has no KITTI raw drive'
                  if seq not in KITTI_ODOM_DRIVES else
                  f'sequence {seq}: no raw data was released for '
                  f'{KITTI_ODOM_DRIVES[seq][0]}_drive_'
                  f'{KITTI_ODOM_DRIVES[seq][1]}')
        report.warn(raw_root, reason + '; IMU marked missing')
        report.count('sequences without raw IMU data')
        meta['missing_reason'] = reason
        return windows, meta
    if not osp.isdir(dirs['sync']):
        reason = f'raw OXTS folder {dirs["sync"]} not found'
        report.warn(
            dirs['sync'], 'folder not found; IMU of sequence '
            f'{seq} marked missing')
        report.count('sequences without raw IMU data')
        meta['missing_reason'] = reason
        return windows, meta
    date, drive, start = KITTI_ODOM_DRIVES[seq][:3]
    meta.update(drive=f'{date}_drive_{drive}', start_frame=start)
    try:
        T_velo_imu = load_raw_rigid(dirs['imu_to_velo'])
        load_raw_rigid(dirs['velo_to_cam'])
    except KittiFormatError as e:
        report.add_exception(e)
        return windows, meta
    R = _imu_rotation(imu_frame, T_velo_imu, Tr)
    meta['T_velo_imu'] = T_velo_imu.tolist()

    sync = _read_oxts(dirs['sync'], report)
    if sync is None:
        return windows, meta
    ts_sync, pk_sync = sync
    ts_path = osp.join(dirs['sync'], 'timestamps.txt')
    if len(ts_sync) < start + n:
        report.error(
            ts_path, f'{len(ts_sync)} OXTS packets, but sequence {seq} '
            f'needs raw frames {start}..{start + n - 1}')
        return windows, meta
    offset = float(ts_sync[start] - times[0])
    meta['time_offset'] = offset
    residual = np.abs(ts_sync[start:start + n] - offset - times)
    if residual.max() > align_tol:
        worst = int(residual.argmax())
        report.warn(
            ts_path, f'OXTS time differs from times.txt by '
            f'{residual[worst]:.3f} s at frame {worst} (tolerance '
            f'{align_tol} s)',
            line=start + worst + 1)
        report.count('sequences with OXTS / times.txt misalignment')

    if imu_source == 'sync':
        acc = pk_sync[start:start + n][:, _ACC_COLS] @ R.T
        gyro = pk_sync[start:start + n][:, _GYRO_COLS] @ R.T
        for i in range(n - 1):
            windows[i] = dict(
                time=times[i:i + 1].copy(),
                acc=acc[i:i + 1],
                gyro=gyro[i:i + 1])
    elif imu_source == 'extract':
        ext = _read_oxts(dirs['extract'], report) if osp.isdir(
            dirs['extract']) else None
        if ext is None:
            if not osp.isdir(dirs['extract']):
                report.error(
                    dirs['extract'], "folder not found (needed by "
                    "imu_source='extract'; use 'sync' for the 10 "
                    'Hz packets)')
            return windows, meta
        te, pk = ext
        te = te - offset
        keep = np.ones(len(te), dtype=bool)
        last = -np.inf
        for j, t in enumerate(te):
            if t <= last:
                keep[j] = False
            else:
                last = t
        if not keep.all():
            first = int(np.flatnonzero(~keep)[0])
            report.warn(
                osp.join(dirs['extract'], 'timestamps.txt'),
                f'{int((~keep).sum())} extract packets whose time does not '
                'increase were dropped',
                line=first + 1)
            report.count(
                'extract OXTS packets dropped (time not '
                'increasing)', int((~keep).sum()))
        te, pk = te[keep], pk[keep]
        channels = np.concatenate(
            [pk[:, _ACC_COLS] @ R.T, pk[:, _GYRO_COLS] @ R.T], axis=1)
        uncovered = gapped = 0
        for i in range(n - 1):
            t0, t1 = times[i], times[i + 1]
            m = max(int(np.ceil((t1 - t0) * imu_rate - 1e-6)), 1)
            grid = t0 + np.arange(m) / imu_rate
            if len(te) < 2 or grid[0] < te[0] or grid[-1] > te[-1]:
                uncovered += 1
                continue
            right = np.clip(np.searchsorted(te, grid, 'right'), 1, len(te) - 1)
            gapped += int(((te[right] - te[right - 1]) > max_gap).sum())
            values = np.stack(
                [np.interp(grid, te, channels[:, c]) for c in range(6)],
                axis=1)
            windows[i] = dict(time=grid, acc=values[:, :3], gyro=values[:, 3:])
        if uncovered:
            report.warn(
                dirs['extract'], f'{uncovered} frame intervals of '
                f'sequence {seq} are not covered by extract data; '
                'their IMU is marked missing')
            report.count('frame intervals without IMU coverage', uncovered)
        if gapped:
            report.warn(
                dirs['extract'], f'{gapped} IMU samples of sequence '
                f'{seq} interpolated across gaps > {max_gap} s')
            report.count(
                f'IMU samples interpolated across gaps > '
                f'{max_gap} s', gapped)
    else:
        raise ValueError(
            f"imu_source must be 'extract' or 'sync', got {imu_source!r}")
    meta['available'] = any(w is not None for w in windows)
    return windows, meta


def convert_sequence(root: str,
                     seq: str,
                     raw_root: Optional[str] = None,
                     imu_source: str = 'extract',
                     imu_frame: str = 'lidar',
                     imu_rate: float = 100.0,
                     align_tol: float = 0.05,
                     max_gap: float = 0.1,
                     report: Optional[IntegrityReport] = None
                     ) -> Optional[dict]:
    """Build the info dict of one sequence, recording problems in a report.

    Args:
        root (str): KITTI odometry root (holds ``sequences/`` and
            ``poses/``).
        seq (str): Two-digit sequence name.
        raw_root (str, optional): KITTI raw root. Defaults to
            ``ROOT/raw``.
        imu_source (str): ``'extract'`` (~100 Hz, resampled) or ``'sync'``
            (10 Hz). Defaults to 'extract'.
        imu_frame (str): ``'lidar'``, ``'imu'`` or ``'camera'``. Defaults
            to 'lidar'.
        imu_rate (float): Rate of the resampling grid of extract data (Hz).
            Defaults to 100.
        align_tol (float): Largest OXTS / times.txt residual (s) accepted
            without a warning. Defaults to 0.05.
        max_gap (float): Extract packet gaps (s) above which interpolated
            samples are counted. Defaults to 0.1.
        report (IntegrityReport, optional): Report to fill.

    Returns:
        dict | None: ``{'metainfo': ..., 'data_list': [...]}`` in the
        mmengine ``BaseDataset`` format, or None if the sequence has errors
        (recorded in ``report``).
    """
    report = IntegrityReport() if report is None else report
    raw_root = osp.join(root, 'raw') if raw_root is None else raw_root
    seq_dir = osp.join(root, 'sequences', seq)
    if not osp.isdir(seq_dir):
        report.error(seq_dir, f'sequence {seq} not found (searched '
                     f'{seq_dir})')
        return None
    times_path = osp.join(seq_dir, 'times.txt')
    pose_path = osp.join(root, 'poses', f'{seq}.txt')
    loaded = {}
    for key, fn, path in (('calib', load_calib, osp.join(seq_dir,
                                                         'calib.txt')),
                          ('times', load_times,
                           times_path), ('poses', load_poses, pose_path)):
        try:
            loaded[key] = fn(path)
        except KittiFormatError as e:
            report.add_exception(e)
    if len(loaded) < 3:
        return None
    times, poses, calib = loaded['times'], loaded['poses'], loaded['calib']
    n = len(times)
    if len(poses) != n:
        report.error(pose_path, f'{len(poses)} poses but {n} frames in '
                     f'{times_path}')
        return None
    n_errors = len(report.errors)
    _check_frame_files(root, seq, n, report)
    windows, imu_meta = _imu_windows(seq, times, calib['Tr'], raw_root,
                                     imu_source, imu_frame, imu_rate,
                                     align_tol, max_gap, report)
    if len(report.errors) > n_errors:
        return None
    data_list = []
    for i in range(n):
        data_list.append(
            dict(
                frame_id=i,
                timestamp=float(times[i]),
                img_path=f'sequences/{seq}/image_2/{i:06d}.png',
                lidar_path=f'sequences/{seq}/velodyne/{i:06d}.bin',
                pose=poses[i].tolist(),
                imu=windows[i]))
    metainfo = dict(
        dataset='KITTI odometry',
        info_version=INFO_VERSION,
        seq=seq,
        num_frames=n,
        calib=dict(
            Tr=calib['Tr'].tolist(),
            P2=calib['P2'].tolist(),
            T_velo_imu=imu_meta.pop('T_velo_imu')),
        imu=imu_meta)
    return dict(metainfo=metainfo, data_list=data_list)


def compute_imu_stats(infos: Sequence[dict]) -> Optional[dict]:
    """Per-channel mean and std of the IMU samples of converted sequences.

    Args:
        infos (Sequence[dict]): Info dicts from :func:`convert_sequence`.

    Returns:
        dict | None: ``mean`` and ``std`` (6 floats each, channel order
        :data:`IMU_CHANNELS`), ``num_samples``, ``frame``, ``source`` and
        ``sequences`` (those holding IMU samples); None when no sample
        exists.
    """
    chunks, used = [], []
    for info in infos:
        n = len(chunks)
        for frame in info['data_list']:
            if frame['imu'] is not None:
                chunks.append(
                    np.concatenate([frame['imu']['acc'], frame['imu']['gyro']],
                                   axis=1))
        if len(chunks) > n:
            used.append(info)
    if not chunks:
        return None
    values = np.concatenate(chunks)
    imu_meta = used[0]['metainfo']['imu']
    return dict(
        channels=list(IMU_CHANNELS),
        mean=values.mean(0).tolist(),
        std=np.maximum(values.std(0), 1e-6).tolist(),
        num_samples=int(len(values)),
        frame=imu_meta['frame'],
        source=imu_meta['source'],
        sequences=[info['metainfo']['seq'] for info in used])


def list_sequences(root: str) -> List[str]:
    """Sequences of ``ROOT/sequences`` that have a ground-truth pose file."""
    seq_root = osp.join(root, 'sequences')
    if not osp.isdir(seq_root):
        raise KittiFormatError(f'{seq_root}: folder not found')
    return sorted(
        d for d in os.listdir(seq_root)
        if d.isdigit() and osp.isfile(osp.join(root, 'poses', f'{d}.txt')))


def check_kitti_integrity(root: str,
                          raw_root: Optional[str] = None,
                          sequences=None,
                          deep: bool = False,
                          **kwargs) -> Tuple[IntegrityReport, List[dict]]:
    """Check a KITTI odometry (+ raw) layout without writing anything.

    Args:
        root (str): KITTI odometry root.
        raw_root (str, optional): KITTI raw root. Defaults to ``ROOT/raw``.
        sequences (str | list, optional): Sequences to check. Defaults to
            every sequence with a pose file.
        deep (bool): Also read every point cloud and check for NaN / inf.
            Defaults to False.
        **kwargs: Options of :func:`convert_sequence`.

    Returns:
        tuple[IntegrityReport, list[dict]]: The report and the info dicts
        of the sequences without errors.
    """
    from ..utils.kitti_io import load_velodyne
    report = IntegrityReport()
    seqs = (
        list_sequences(root)
        if sequences is None else parse_sequences(sequences))
    infos = []
    for seq in seqs:
        info = convert_sequence(root, seq, raw_root, report=report, **kwargs)
        if info is None:
            continue
        infos.append(info)
        if deep:
            for frame in info['data_list']:
                try:
                    load_velodyne(osp.join(root, frame['lidar_path']))
                except KittiFormatError as e:
                    report.add_exception(e)
    return report, infos


def create_kitti_odom_infos(root: str,
                            raw_root: Optional[str] = None,
                            sequences=None,
                            out_dir: Optional[str] = None,
                            stats_sequences=None,
                            **kwargs) -> Tuple[IntegrityReport, List[str]]:
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
        **kwargs: Options of :func:`convert_sequence`.

    Returns:
        tuple[IntegrityReport, list[str]]: The report and written files.

    Raises:
        KittiFormatError: Listing every problem found, if any.
    """
    report, infos = check_kitti_integrity(root, raw_root, sequences, **kwargs)
    report.log()
    report.raise_if_errors()
    out_dir = osp.join(root, 'infos') if out_dir is None else out_dir
    mmengine.mkdir_or_exist(out_dir)
    written = []
    for info in infos:
        path = osp.join(out_dir, info_file_name(info['metainfo']['seq']))
        mmengine.dump(info, path)
        written.append(path)
        n_imu = sum(f['imu'] is not None for f in info['data_list'])
        print_log(
            f'sequence {info["metainfo"]["seq"]}: '
            f'{info["metainfo"]["num_frames"]} frames, {n_imu} with IMU '
            f'-> {path}',
            logger='current')
    stats_seqs = (None if stats_sequences is None else
                  parse_sequences(stats_sequences))
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
        with open(path, 'w') as f:
            json.dump(stats, f, indent=2)
        written.append(path)
    return report, written
