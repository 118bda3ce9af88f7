"""Readers and writers of KITTI raw OXTS (GPS/IMU) and raw calibration files.

Layout of one drive (``<date>/<date>_drive_<NNNN>_{sync,extract}/oxts/``)::

    data/0000000000.txt   one packet: 30 space-separated values
    timestamps.txt        "2011-10-03 12:55:34.512345678", one a line
    dataformat.txt        the meaning of the 30 values

The packet fields are listed in :data:`OXTS_FIELDS`.  As in the KITTI raw
devkit, ``ax, ay, az`` and ``wx, wy, wz`` are given in the IMU body frame
(x forward, y left, z up), ``vf, vl, vu``, ``af, al, au`` and ``wf, wl, wu``
in the body frame rotated to the level plane (roll and pitch removed; ``f``
and ``l`` parallel to the earth surface, ``u`` up).  Accelerations are
specific forces: a unit at rest reads ``az`` = ``au`` = +9.81.

Every reader raises :class:`KittiFormatError` naming the file (and the line
where there is one) of every problem it finds.
"""
import calendar
import datetime
import os
import os.path as osp
import re
from typing import Callable, Dict, Sequence, Tuple, Union

import numpy as np

from mmfusion.datasets import DataProblem
from ..utils.kitti_io import (KittiFormatError, kitti_error, parse_floats,
                              parse_lines)

OXTS_FIELDS = ('lat', 'lon', 'alt', 'roll', 'pitch', 'yaw', 'vn', 've', 'vf',
               'vl', 'vu', 'ax', 'ay', 'az', 'af', 'al', 'au', 'wx', 'wy',
               'wz', 'wf', 'wl', 'wu', 'pos_accuracy', 'vel_accuracy',
               'navstat', 'numsats', 'posmode', 'velmode', 'orimode')

OXTS_DATAFORMAT = """\
lat:   latitude of the oxts-unit (deg)
lon:   longitude of the oxts-unit (deg)
alt:   altitude of the oxts-unit (m)
roll:  roll angle (rad),  0 = level, positive = left side up (-pi..pi)
pitch: pitch angle (rad), 0 = level, positive = front down (-pi/2..pi/2)
yaw:   heading (rad),     0 = east,  positive = counter clockwise (-pi..pi)
vn:    velocity towards north (m/s)
ve:    velocity towards east (m/s)
vf:    forward velocity, i.e. parallel to earth-surface (m/s)
vl:    leftward velocity, i.e. parallel to earth-surface (m/s)
vu:    upward velocity, i.e. perpendicular to earth-surface (m/s)
ax:    acceleration in x, i.e. in direction of vehicle front (m/s^2)
ay:    acceleration in y, i.e. in direction of vehicle left (m/s^2)
az:    acceleration in z, i.e. in direction of vehicle top (m/s^2)
af:    forward acceleration (m/s^2)
al:    leftward acceleration (m/s^2)
au:    upward acceleration (m/s^2)
wx:    angular rate around x (rad/s)
wy:    angular rate around y (rad/s)
wz:    angular rate around z (rad/s)
wf:    angular rate around forward axis (rad/s)
wl:    angular rate around leftward axis (rad/s)
wu:    angular rate around upward axis (rad/s)
pos_accuracy:  position accuracy (north/east in m)
vel_accuracy:  velocity accuracy (north/east in m/s)
navstat:       navigation status
numsats:       number of satellites tracked by primary GPS receiver
posmode:       position mode of primary GPS receiver
velmode:       velocity mode of primary GPS receiver
orimode:       orientation mode of primary GPS receiver
"""

EARTH_RADIUS = 6378137.0
_DATA_NAME = re.compile(r'^(\d{10})\.txt$')
_TIMESTAMP = re.compile(
    r'^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$')


def _parse_packet(path: str, lineno: int, line: str) -> np.ndarray:
    fields = line.split()
    if len(fields) != len(OXTS_FIELDS):
        raise kitti_error(
            'malformed_line', path,
            f'expected {len(OXTS_FIELDS)} OXTS values, got {len(fields)}',
            lineno)
    values = parse_floats(path, lineno, line, line)
    if not np.all(np.isfinite(values)):
        bad = OXTS_FIELDS[int(np.argmin(np.isfinite(values)))]
        raise kitti_error('non_finite', path, f'NaN or inf in {bad!r}', lineno)
    return values


def list_oxts_files(data_dir: str) -> list:
    """List the packet files of an ``oxts/data`` folder in frame order.

    Args:
        data_dir (str): The ``oxts/data`` folder.

    Returns:
        list[str]: Paths of ``0000000000.txt`` .. ``NNNNNNNNNN.txt``.

    Raises:
        KittiFormatError: If the folder is missing or empty, or naming the
            missing files (the first 20, then their number) if the frame
            numbers do not run contiguously from 0.
    """
    if not osp.isdir(data_dir):
        raise kitti_error('missing_folder', data_dir, 'folder not found')
    indices = sorted(
        int(m.group(1)) for m in map(_DATA_NAME.match, os.listdir(data_dir))
        if m)
    if not indices:
        raise kitti_error('empty_folder', data_dir,
                          'no NNNNNNNNNN.txt packet files')
    present = set(indices)
    missing = [i for i in range(indices[-1]) if i not in present]
    if missing:
        problems = [
            DataProblem(
                'missing_file', osp.join(data_dir, f'{i:010d}.txt'),
                'missing (frames must run contiguously from 0000000000.txt)')
            for i in missing[:20]
        ]
        if len(missing) > 20:
            problems.append(
                DataProblem('missing_file', data_dir,
                            f'{len(missing)} packet files missing in all'))
        raise KittiFormatError(problems)
    return [osp.join(data_dir, f'{i:010d}.txt') for i in indices]


def load_oxts_packets(path: str) -> np.ndarray:
    """Read OXTS packets.

    Args:
        path (str): An ``oxts/data`` folder (one packet per
            ``NNNNNNNNNN.txt`` file, numbered from 0), an ``oxts`` folder
            holding such a ``data`` folder, or one text file with one packet
            a line.

    Returns:
        np.ndarray: Packets of shape (N, 30), float64, columns as in
        :data:`OXTS_FIELDS`.

    Raises:
        KittiFormatError: Naming every bad packet file (or line).
    """
    if osp.isdir(path) and osp.isdir(osp.join(path, 'data')):
        path = osp.join(path, 'data')
    if not osp.isdir(path):
        return np.stack([
            p for _, p in parse_lines(path, _packet_parser(path), 'OXTS '
                                      'packets')
        ])
    packets, problems = [], []
    for file in list_oxts_files(path):
        try:
            lines = parse_lines(file, _packet_parser(file), 'OXTS packet')
            if len(lines) != 1:
                raise kitti_error(
                    'malformed_file', file,
                    f'expected one OXTS packet, got {len(lines)} lines')
            packets.append(lines[0][1])
        except KittiFormatError as e:
            problems.extend(e.problems)
    if problems:
        raise KittiFormatError(problems)
    return np.stack(packets)


def _packet_parser(path: str) -> Callable[[int, str], np.ndarray]:
    return lambda lineno, line: _parse_packet(path, lineno, line)


def load_oxts_timestamps(path: str) -> np.ndarray:
    """Read an OXTS ``timestamps.txt`` (``YYYY-MM-DD hh:mm:ss.fffffffff``).

    The times are not required to increase: real extract streams have
    occasional glitches, which the caller should check and report.

    Args:
        path (str): The ``timestamps.txt`` file or the ``oxts`` folder
            holding it.

    Returns:
        np.ndarray: POSIX seconds (the clock read as UTC) of shape (N,),
        float64 (resolution about 0.5 us).

    Raises:
        KittiFormatError: Naming every bad line.
    """
    if osp.isdir(path):
        path = osp.join(path, 'timestamps.txt')

    def parse(lineno: int, line: str) -> float:
        m = _TIMESTAMP.match(line.strip())
        try:
            if m is None:
                raise ValueError
            clock = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S')
        except ValueError:
            raise kitti_error(
                'malformed_line', path,
                f'expected "YYYY-MM-DD hh:mm:ss.fffffffff", got {line!r}',
                lineno) from None
        frac = m.group(2) or '0'
        return calendar.timegm(clock.timetuple()) + int(frac) / 10**len(frac)

    return np.asarray([t for _, t in parse_lines(path, parse, 'timestamps')],
                      dtype=np.float64)


def save_oxts(oxts_dir: str, packets: np.ndarray, times: Sequence[float],
              origin: datetime.datetime) -> None:
    """Write an ``oxts`` folder: ``data/``, ``timestamps.txt`` and
    ``dataformat.txt``.

    Args:
        oxts_dir (str): The ``oxts`` folder to write (created if needed).
        packets (np.ndarray): Packets of shape (N, 30); the last five
            columns (status and mode fields) must hold integers.
        times (Sequence[float]): Seconds after ``origin`` of each packet,
            shape (N,).
        origin (datetime.datetime): Clock time of ``times == 0``.
    """
    packets = np.asarray(packets, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if packets.ndim != 2 or packets.shape[1] != len(OXTS_FIELDS):
        raise ValueError(f'packets must be (N, 30), got {packets.shape}')
    if len(times) != len(packets):
        raise ValueError(f'{len(times)} times for {len(packets)} packets')
    if not np.all(np.isfinite(packets)):
        raise ValueError('packets hold NaN or inf')
    if np.any(packets[:, 25:] != np.round(packets[:, 25:])):
        raise ValueError('navstat .. orimode must be integers')
    data_dir = osp.join(oxts_dir, 'data')
    os.makedirs(data_dir, exist_ok=True)
    for i, packet in enumerate(packets):
        values = [f'{v:.14g}' for v in packet[:25]]
        values += [str(int(v)) for v in packet[25:]]
        with open(osp.join(data_dir, f'{i:010d}.txt'), 'w') as f:
            f.write(' '.join(values) + '\n')
    with open(osp.join(oxts_dir, 'timestamps.txt'), 'w') as f:
        f.writelines(format_timestamp(origin, t) + '\n' for t in times)
    with open(osp.join(oxts_dir, 'dataformat.txt'), 'w') as f:
        f.write(OXTS_DATAFORMAT)


def format_timestamp(origin: datetime.datetime, seconds: float) -> str:
    """Format ``origin + seconds`` as ``YYYY-MM-DD hh:mm:ss.fffffffff``."""
    ns = int(round(seconds * 1e9)) + origin.microsecond * 1000
    whole, ns = divmod(ns, 10**9)
    clock = origin.replace(microsecond=0) + datetime.timedelta(seconds=whole)
    return f'{clock:%Y-%m-%d %H:%M:%S}.{ns:09d}'


def oxts_to_poses(packets: np.ndarray, relative: bool = True) -> np.ndarray:
    """Poses of the IMU from OXTS packets, as the KITTI raw devkit computes
    them (``convertOxtsToPose``).

    Positions are Mercator coordinates scaled by the cosine of the first
    packet's latitude (x east, y north, z altitude, metres); orientation is
    ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``.

    Args:
        packets (np.ndarray): Packets of shape (N, 30).
        relative (bool): Express the poses in the frame of the first packet
            (the devkit's output). Defaults to True.

    Returns:
        np.ndarray: Poses of shape (N, 4, 4), float64.
    """
    packets = np.asarray(packets, dtype=np.float64)
    lat, lon, alt = (packets[:, i] for i in range(3))
    scale = np.cos(np.deg2rad(lat[0]))
    T = np.zeros((len(packets), 4, 4))
    T[:, 0, 3] = scale * EARTH_RADIUS * np.deg2rad(lon)
    T[:, 1,
      3] = scale * EARTH_RADIUS * np.log(np.tan(np.deg2rad(90 + lat) / 2))
    T[:, 2, 3] = alt
    T[:, 3, 3] = 1.0
    cr, sr = np.cos(packets[:, 3]), np.sin(packets[:, 3])
    cp, sp = np.cos(packets[:, 4]), np.sin(packets[:, 4])
    cy, sy = np.cos(packets[:, 5]), np.sin(packets[:, 5])
    T[:, 0, :3] = np.stack(
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], axis=-1)
    T[:, 1, :3] = np.stack(
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], axis=-1)
    T[:, 2, :3] = np.stack([-sp, cp * sr, cp * cr], axis=-1)
    if relative:
        T = np.linalg.solve(T[0], T)
    return T


def load_raw_calib(path: str) -> Dict[str, Union[np.ndarray, str]]:
    """Read a KITTI raw calibration file (``calib_imu_to_velo.txt``,
    ``calib_velo_to_cam.txt``, ``calib_cam_to_cam.txt``).

    Lines read ``KEY: v1 v2 ...``; ``calib_time`` is kept as text.

    Args:
        path (str): The calibration file.

    Returns:
        dict: Each key mapped to its values, a 1-D float64 array (e.g.
        ``R`` (9,), ``T`` (3,), ``P_rect_02`` (12,)), and ``calib_time`` to
        a str.
    """

    def parse(lineno: int, line: str) -> Tuple[str, Union[np.ndarray, str]]:
        key, sep, rest = line.partition(':')
        key = key.strip()
        if not sep or not key:
            raise kitti_error('malformed_line', path, 'expected "KEY: values"',
                              lineno)
        if key == 'calib_time':
            return key, rest.strip()
        values = parse_floats(path, lineno, rest, line)
        if not np.all(np.isfinite(values)):
            raise kitti_error('non_finite', path, f'NaN or inf in {key}',
                              lineno)
        return key, values

    return dict(
        value for _, value in parse_lines(path, parse, 'calibration entries'))


def load_raw_rigid(path: str) -> np.ndarray:
    """Read the rigid transform of a raw ``R: 9 floats`` / ``T: 3 floats``
    file (``calib_imu_to_velo.txt`` gives ``T_velo_imu``, which maps IMU
    points into the Velodyne frame; ``calib_velo_to_cam.txt`` gives
    ``T_cam0_velo`` before rectification).

    Args:
        path (str): The calibration file.

    Returns:
        np.ndarray: The transform of shape (4, 4), float64.
    """
    calib = load_raw_calib(path)
    T = np.eye(4)
    for key, size in (('R', 9), ('T', 3)):
        if key not in calib:
            raise kitti_error('missing_calibration', path,
                              f'calibration {key} missing')
        if calib[key].size != size:
            raise kitti_error(
                'malformed_line', path,
                f'{key} needs {size} values, got {calib[key].size}')
    T[:3, :3] = calib['R'].reshape(3, 3)
    T[:3, 3] = calib['T']
    if not np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-4):
        raise kitti_error('not_a_rotation', path, 'R is not a rotation matrix')
    return T


def save_raw_calib(path: str, entries: Dict[str, np.ndarray],
                   calib_time: str) -> None:
    """Write a KITTI raw calibration file.

    Args:
        path (str): The file to write.
        entries (dict): Keys mapped to arrays (written flattened, row
            major, in insertion order).
        calib_time (str): The ``calib_time`` line's text, e.g.
            ``'09-Jan-2012 13:57:47'``.
    """
    lines = [f'calib_time: {calib_time}']
    for key, values in entries.items():
        flat = np.asarray(values, dtype=np.float64).ravel()
        lines.append(f'{key}: ' + ' '.join(f'{v:.6e}' for v in flat))
    # written aside and moved into place: the drives of a date share the
    # file, and a sample generated in parallel writes it from each of them
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, path)
