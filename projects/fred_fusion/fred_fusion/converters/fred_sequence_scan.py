"""Scan and check the files of one FRED sequence folder."""
import os
import os.path as osp
from collections import Counter
from typing import List, NamedTuple, Optional, Tuple

from ..datasets.fred_data_error import DataProblem
from .fred_annotation import FREDBox, RefusedLine, parse_coordinates
from .image_probe import probe_image

RGB_DIR = 'RGB'
EVENT_DIR = osp.join('Event', 'Frames')
_DAY = 24 * 3600.


class Frame(NamedTuple):
    """One frame file of a stream.

    Args:
        file (str): Path relative to the sequence folder.
        time (float): Seconds from the sequence start (first RGB frame).
        size (tuple[int, int]): ``(W, H)`` read from the file header.
    """

    file: str
    time: float
    size: Tuple[int, int]


class SequenceScan(NamedTuple):
    """Checked content of one sequence folder.

    Args:
        rgb_frames (list[Frame]): Good RGB frames sorted by time.
        event_frames (list[Frame]): Good event frames sorted by time.
        event_time_us (list[int]): Microsecond stamps of ``event_frames``.
        boxes (list[FREDBox]): Good annotation boxes.
        num_annotation_lines (int): Non-empty lines of the annotation file.
        problems (list[DataProblem]): Every problem found.
        skipped (Counter): Items skipped by design, by kind.
        refused (list[RefusedLine]): Refused annotation lines and the
            times they may describe.
    """

    rgb_frames: List[Frame]
    event_frames: List[Frame]
    event_time_us: List[int]
    boxes: List[FREDBox]
    num_annotation_lines: int
    problems: List[DataProblem]
    skipped: Counter
    refused: List[RefusedLine]


def parse_rgb_name(name: str) -> Optional[float]:
    """Wall-clock seconds of ``Video_<seq>_<H>_<M>_<S.frac>.jpg``.

    Args:
        name (str): File name.

    Returns:
        float | None: ``H * 3600 + M * 60 + S``, None if the name does not
        follow the pattern.
    """
    stem, ext = osp.splitext(name)
    parts = stem.rsplit('_', 3)
    if (ext.lower() not in ('.jpg', '.jpeg') or len(parts) != 4
            or not parts[0].startswith('Video_')):
        return None
    try:
        hours, minutes, seconds = int(parts[1]), int(parts[2]), float(parts[3])
    except ValueError:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return None
    return hours * 3600 + minutes * 60 + seconds


def parse_event_name(name: str) -> Optional[int]:
    """Microseconds since the sequence start of ``Video_<seq>_<us>.png``.

    Args:
        name (str): File name.

    Returns:
        int | None: The time stamp, None if the name does not follow the
        pattern.
    """
    stem, ext = osp.splitext(name)
    parts = stem.rsplit('_', 1)
    if (ext.lower() != '.png' or len(parts) != 2
            or not parts[0].startswith('Video_') or not parts[1].isdigit()):
        return None
    return int(parts[1])


def _list_stream(seq_dir: str, sub: str, what: str,
                 problems: List[DataProblem]) -> List[str]:
    folder = osp.join(seq_dir, sub)
    if not osp.isdir(folder):
        problems.append(
            DataProblem(f'missing_{what}_folder', folder,
                        f'sequence has no {what} folder'))
        return []
    names = sorted(os.listdir(folder))
    if not names:
        problems.append(
            DataProblem(f'no_{what}_frames', folder,
                        f'{what} folder is empty'))
    return names


def scan_sequence(seq_dir: str,
                  coords: str = 'coordinates.txt',
                  class_mode: str = 'five',
                  box_tolerance: float = 4.0) -> SequenceScan:
    """List, time-stamp and check every file of one sequence.

    Checks: the RGB and ``Event/Frames`` folders exist and are not empty,
    file names follow the FRED patterns, no two frames of one stream share
    a time stamp, every frame decodes strictly (see :func:`probe_image`),
    and every annotation line parses (see :func:`parse_coordinates`). Bad
    items are left out and reported.

    RGB times are taken relative to the earliest RGB name; a sequence that
    crosses midnight (names spanning more than 12 h) is unwrapped.

    Args:
        seq_dir (str): The ``<root>/<seq_id>`` folder.
        coords (str): Annotation file name. Defaults to
            ``'coordinates.txt'``.
        class_mode (str): ``'five'`` or ``'drone'``. Defaults to ``'five'``.
        box_tolerance (float): Pixels a box may exceed the frame by.
            Defaults to 4.0.

    Returns:
        SequenceScan: The good frames and boxes, problems and skip counts.
    """
    problems: List[DataProblem] = []
    skipped: Counter = Counter()

    walls = []
    for name in _list_stream(seq_dir, RGB_DIR, 'rgb', problems):
        wall = parse_rgb_name(name)
        if wall is None:
            problems.append(
                DataProblem(
                    'bad_file_name', osp.join(seq_dir, RGB_DIR, name),
                    'RGB frame name is not '
                    'Video_<seq>_<H>_<M>_<S.frac>.jpg'))
            continue
        walls.append((wall, name))
    if walls and max(w for w, _ in walls) - min(w
                                                for w, _ in walls) > _DAY / 2:
        walls = [(w + _DAY if w < _DAY / 2 else w, n) for w, n in walls]
    walls.sort()
    origin = walls[0][0] if walls else 0.

    rgb_frames: List[Frame] = []
    last = (None, None)
    for wall, name in walls:
        rel = osp.join(RGB_DIR, name)
        path = osp.join(seq_dir, rel)
        if wall == last[0]:
            problems.append(
                DataProblem(
                    'duplicate_timestamp', path,
                    f'RGB time stamp {wall - origin:.6f} s repeats that of '
                    f'{last[1]}'))
            continue
        last = (wall, name)
        size, problem = probe_image(path)
        if problem is not None:
            problems.append(problem)
            continue
        rgb_frames.append(Frame(rel, wall - origin, size))

    stamps = []
    for name in _list_stream(seq_dir, EVENT_DIR, 'event', problems):
        time_us = parse_event_name(name)
        if time_us is None:
            problems.append(
                DataProblem('bad_file_name', osp.join(seq_dir, EVENT_DIR,
                                                      name),
                            'event frame name is not Video_<seq>_<us>.png'))
            continue
        stamps.append((time_us, name))
    stamps.sort()
    event_frames: List[Frame] = []
    event_time_us: List[int] = []
    for i, (time_us, name) in enumerate(stamps):
        rel = osp.join(EVENT_DIR, name)
        path = osp.join(seq_dir, rel)
        if i and stamps[i - 1][0] == time_us:
            problems.append(
                DataProblem(
                    'duplicate_timestamp', path,
                    f'event time stamp {time_us} us repeats that of '
                    f'{stamps[i - 1][1]}'))
            continue
        size, problem = probe_image(path)
        if problem is not None:
            problems.append(problem)
            continue
        event_frames.append(Frame(rel, time_us / 1e6, size))
        event_time_us.append(time_us)

    ann_path = osp.join(seq_dir, coords)
    boxes: List[FREDBox] = []
    refused: List[RefusedLine] = []
    num_lines = 0
    if not osp.isfile(ann_path):
        problems.append(
            DataProblem('missing_annotation', ann_path,
                        'annotation file does not exist'))
    else:
        img_size = rgb_frames[0].size if rgb_frames else None
        parsed = parse_coordinates(ann_path, class_mode, img_size,
                                   box_tolerance)
        boxes, refused = parsed.boxes, parsed.refused
        problems.extend(parsed.problems)
        skipped.update(parsed.skipped)
        with open(ann_path, 'rb') as f:
            num_lines = sum(1 for line in f if line.strip())
    return SequenceScan(rgb_frames, event_frames, event_time_us, boxes,
                        num_lines, problems, skipped, refused)
