"""Readers and writers of KITTI odometry text files.

Every reader raises :class:`KittiFormatError` naming the file and the line
of every problem it finds, never a bare numpy error.
"""
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np

from mmfusion.datasets import DataError, DataProblem, DataReport

_Value = TypeVar('_Value')


class KittiFormatError(DataError):
    """KITTI files are missing or malformed; the message names them (see
    :class:`mmfusion.datasets.DataError`)."""

    dataset = 'KITTI odometry'


def kitti_error(kind: str,
                file: str,
                message: str,
                line: Optional[int] = None) -> KittiFormatError:
    """The :class:`KittiFormatError` of one problem (to be raised)."""
    return KittiFormatError(DataProblem(kind, file, message, line))


def kitti_report() -> DataReport:
    """An empty report whose errors raise :class:`KittiFormatError`."""
    return DataReport(KittiFormatError)


def read_lines(path: str) -> List[str]:
    """Lines of a text file; a missing file is a :class:`KittiFormatError`.
    """
    if not osp.isfile(path):
        raise kitti_error('missing_file', path, 'file not found')
    with open(path) as f:
        return f.read().splitlines()


def parse_lines(path: str, parse: Callable[[int, str], _Value],
                what: str) -> List[Tuple[int, _Value]]:
    """Parse every non-empty line of a text file, collecting the problems
    of all lines.

    Args:
        path (str): The file.
        parse (Callable[[int, str], Value]): Parses ``(lineno, line)``; raises
            :class:`KittiFormatError` for a bad line.
        what (str): What the lines hold, for an empty file's message, e.g.
            ``'poses'``.

    Returns:
        list[tuple[int, Value]]: ``(lineno, value)`` of every line.

    Raises:
        KittiFormatError: Listing the problem of every bad line, or
            ``no <what>`` for a file without any.
    """
    parsed, problems = [], []
    for lineno, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            parsed.append((lineno, parse(lineno, line)))
        except KittiFormatError as e:
            problems.extend(e.problems)
    if problems:
        raise KittiFormatError(problems)
    if not parsed:
        raise kitti_error('empty_file', path, f'no {what}')
    return parsed


def parse_floats(path: str, lineno: int, text: str, line: str) -> np.ndarray:
    """Parse the whitespace-separated numbers of ``text`` (part of ``line``).

    Returns:
        np.ndarray: The values, float64 of shape (N, ).

    Raises:
        KittiFormatError: ``path:lineno: not a number in 'line'``.
    """
    try:
        return np.array([float(v) for v in text.split()])
    except ValueError:
        raise kitti_error('malformed_line', path, f'not a number in {line!r}',
                          lineno) from None


def load_poses(path: str) -> np.ndarray:
    """Read ``poses/XX.txt``: 12 floats a line, a row-major 3x4 pose.

    Args:
        path (str): The pose file.

    Returns:
        np.ndarray: Poses of shape (N, 4, 4), float64.

    Raises:
        KittiFormatError: Naming every bad line.
    """

    def parse(lineno: int, line: str) -> np.ndarray:
        fields = line.split()
        if len(fields) != 12:
            raise kitti_error('malformed_line', path,
                              f'expected 12 values, got {len(fields)}', lineno)
        values = parse_floats(path, lineno, line, line)
        if not np.all(np.isfinite(values)):
            raise kitti_error('non_finite', path, 'NaN or inf in pose', lineno)
        T = np.eye(4)
        T[:3, :4] = values.reshape(3, 4)
        return T

    return np.stack([T for _, T in parse_lines(path, parse, 'poses')])


def save_poses(path: str, poses: np.ndarray) -> None:
    """Write poses (N, 4, 4) or (N, 3, 4) in the KITTI format (12 floats a
    line, as read by the devkit and by evo's ``kitti`` format)."""
    poses = np.asarray(poses, dtype=np.float64)
    rows = poses[:, :3, :4].reshape(len(poses), 12)
    np.savetxt(path, rows, fmt='%.9e')


def load_times(path: str) -> np.ndarray:
    """Read ``times.txt`` (seconds, one a line) and check it increases.

    Returns:
        np.ndarray: Times of shape (N,), float64.

    Raises:
        KittiFormatError: Naming every bad line.
    """

    def parse(lineno: int, line: str) -> float:
        try:
            t = float(line)
        except ValueError:
            raise kitti_error('malformed_line', path,
                              f'not a number: {line!r}', lineno) from None
        if not np.isfinite(t):
            raise kitti_error('non_finite', path, 'NaN or inf time', lineno)
        return t

    times, problems = [], []
    for lineno, t in parse_lines(path, parse, 'times'):
        if times and t <= times[-1]:
            problems.append(
                DataProblem(
                    'time_not_increasing', path,
                    f'time {t} does not increase (previous '
                    f'{times[-1]})', lineno))
        else:
            times.append(t)
    if problems:
        raise KittiFormatError(problems)
    return np.asarray(times)


def load_calib(path: str) -> Dict[str, np.ndarray]:
    """Read an odometry ``calib.txt`` (``P0``..``P3`` and ``Tr``).

    Returns:
        dict: ``P0``..``P3`` as (3, 4) and ``Tr`` (velodyne -> camera 0) as
        (4, 4) float64 arrays.

    Raises:
        KittiFormatError: Naming every bad line and missing matrix.
    """

    def parse(lineno: int, line: str) -> Tuple[str, np.ndarray]:
        key, sep, rest = line.partition(':')
        if not sep:
            raise kitti_error('malformed_line', path, 'expected "KEY: values"',
                              lineno)
        values = parse_floats(path, lineno, rest, line)
        if values.size != 12:
            raise kitti_error(
                'malformed_line', path,
                f'{key.strip()} needs 12 values, got {values.size}', lineno)
        return key.strip(), values.reshape(3, 4)

    calib = dict(value for _, value in parse_lines(path, parse, 'calibration'))
    missing = [
        DataProblem('missing_calibration', path, f'calibration {key} missing')
        for key in ('P0', 'P1', 'P2', 'P3', 'Tr') if key not in calib
    ]
    if missing:
        raise KittiFormatError(missing)
    Tr = np.eye(4)
    Tr[:3, :4] = calib['Tr']
    calib['Tr'] = Tr
    return calib


def load_velodyne(path: str) -> np.ndarray:
    """Read a Velodyne scan: float32 x, y, z, reflectance.

    Returns:
        np.ndarray: Points of shape (N, 4), float32.
    """
    if not osp.isfile(path):
        raise kitti_error('missing_file', path, 'file not found')
    size = osp.getsize(path)
    if size == 0:
        raise kitti_error('empty_file', path,
                          'file is empty (0 bytes, no points)')
    if size % 16:
        raise kitti_error(
            'bad_file_size', path,
            f'{size} bytes is not a multiple of 16 (float32 x4)')
    points = np.fromfile(path, dtype=np.float32).reshape(-1, 4)
    if not np.all(np.isfinite(points)):
        bad = int((~np.isfinite(points)).any(axis=1).sum())
        raise kitti_error('non_finite', path, f'{bad} points with NaN or inf')
    return points
