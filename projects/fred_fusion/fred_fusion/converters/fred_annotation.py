"""Parser of FRED ``coordinates.txt`` / ``coordinates_rgb.txt`` files."""
import math
from collections import Counter
from typing import List, NamedTuple, Optional, Sequence, Tuple

from ..datasets.fred_classes import FRED_CLASSES
from ..datasets.fred_data_error import DataProblem

#: Class modes: ``'five'`` keeps the five drone models, ``'drone'`` maps
#: every box to the single class ``'drone'``.
CLASS_MODES = {'five': FRED_CLASSES, 'drone': ('drone', )}

#: Hint of a ``missing_class`` problem: older releases have no class column.
MISSING_CLASS_HINT = ('line has no class; files without a class column '
                      '(older FRED releases) are read with --classes drone '
                      '(class mode "drone")')


class FREDBox(NamedTuple):
    """One annotated box of a ``coordinates*.txt`` line.

    Args:
        time (float): Seconds from the sequence start.
        bbox (tuple[float]): ``(x1, y1, x2, y2)`` in absolute pixels,
            clipped to the frame.
        label (int): Class index in the selected class mode.
        track_id (int): Track id, -1 where the line has none.
        line (int): 1-based line number in the file.
    """

    time: float
    bbox: Tuple[float, float, float, float]
    label: int
    track_id: int
    line: int


class RefusedLine(NamedTuple):
    """An annotation line that was refused, and the times it may describe.

    A frame matched to one of these times would lose the refused boxes, so
    the converter drops it rather than keep it with too few boxes.

    Args:
        problem (DataProblem): Why the line was refused (file and line).
        first_time (float): Earliest annotation time the line may hold:
            its own time if that can be read, otherwise the time of the
            closest readable line before it (0 if there is none).
        last_time (float): Latest such time: its own, or that of the
            closest readable line after it (``inf`` if there is none).
    """

    problem: DataProblem
    first_time: float
    last_time: float


class ParsedCoordinates(NamedTuple):
    """Result of :func:`parse_coordinates`.

    Args:
        boxes (list[FREDBox]): The valid boxes in file order.
        problems (list[DataProblem]): One problem per refused line (naming
            file and line), or one for an unreadable file.
        skipped (Counter): Lines skipped by design, by kind
            (``'empty_box'``: zero width or height after clipping).
        refused (list[RefusedLine]): The refused lines with the times they
            may describe, in file order.
    """

    boxes: List[FREDBox]
    problems: List[DataProblem]
    skipped: Counter
    refused: List[RefusedLine]


def _to_float(text: str) -> Optional[float]:
    """Parse a finite float, None if ``text`` is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _line_time(text: str) -> Optional[float]:
    """Time of a line if it can be read (finite, >= 0), else None."""
    head, sep, _ = text.partition(':')
    time = _to_float(head) if sep else None
    return time if time is not None and time >= 0 else None


def _refused_lines(lines: List[str],
                   problems: List[DataProblem]) -> List[RefusedLine]:
    """The times each refused line may describe (see :class:`RefusedLine`);
    released files list their lines in time order."""
    times = [_line_time(text.strip()) for text in lines]
    # closest readable time before / after each line
    before, after = [0.] * len(times), [math.inf] * len(times)
    for i in range(1, len(times)):
        prev = times[i - 1]
        before[i] = before[i - 1] if prev is None else prev
    for i in range(len(times) - 2, -1, -1):
        nxt = times[i + 1]
        after[i] = after[i + 1] if nxt is None else nxt
    refused = []
    for problem in problems:
        i = problem.line - 1
        if times[i] is not None:
            refused.append(RefusedLine(problem, times[i], times[i]))
        else:
            refused.append(RefusedLine(problem, before[i], after[i]))
    return refused


def parse_coordinates(
    path: str,
    class_mode: str = 'five',
    img_size: Optional[Tuple[int, int]] = None,
    box_tolerance: float = 4.0,
) -> ParsedCoordinates:
    """Parse a FRED coordinates file, keeping every known format variant.

    Lines read ``time: x1, y1, x2, y2[, id[, class]]``; ints and floats may
    be mixed (``1`` or ``1.0``); the id and the class can be missing in
    older releases, several lines can share one time.

    Args:
        path (str): The ``coordinates.txt`` or ``coordinates_rgb.txt`` file.
        class_mode (str): ``'five'`` (the class name is required on every
            line) or ``'drone'`` (one class; a missing class is fine).
            Defaults to ``'five'``.
        img_size (tuple[int, int], optional): ``(W, H)`` of the frames. When
            given, boxes lying entirely outside the frame (by more than
            ``box_tolerance``) are problems; boxes partly outside, as in
            ``coordinates.txt`` where a drone crosses the border, are
            clipped to the frame. Defaults to None.
        box_tolerance (float): Pixels by which a box may lie outside the
            frame. Defaults to 4.0.

    Returns:
        ParsedCoordinates: ``(boxes, problems, skipped, refused)``.
    """
    if class_mode not in CLASS_MODES:
        raise ValueError(f'class_mode must be one of {list(CLASS_MODES)}, '
                         f'got {class_mode!r}')
    class_index = {name: i for i, name in enumerate(FRED_CLASSES)}
    boxes: List[FREDBox] = []
    problems: List[DataProblem] = []
    skipped: Counter = Counter()
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return ParsedCoordinates(
            [], [DataProblem('unreadable_annotation', path, str(e))], skipped,
            [])

    def bad(kind: str, lineno: int, message: str) -> None:
        problems.append(DataProblem(kind, path, message, lineno))

    for lineno, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text:
            continue
        head, sep, tail = text.partition(':')
        fields = [s.strip() for s in tail.split(',')]
        if not sep or len(fields) < 4 or len(fields) > 6:
            bad(
                'malformed_line', lineno,
                f'expected "time: x1, y1, x2, y2[, id[, class]]", got {raw!r}')
            continue
        time = _to_float(head)
        coords = [_to_float(s) for s in fields[:4]]
        if time is None or time < 0 or None in coords:
            bad(
                'malformed_line', lineno,
                f'time and coordinates must be finite numbers (time >= 0), '
                f'got {raw!r}')
            continue
        track_id, class_name = -1, None
        extra = fields[4:]
        if extra and _to_float(extra[0]) is not None:
            value = _to_float(extra.pop(0))
            if value != int(value):
                bad('malformed_line', lineno,
                    f'track id must be an integer, got {value!r}')
                continue
            track_id = int(value)
        if extra:
            class_name = extra.pop(0)
        if extra:
            bad('malformed_line', lineno,
                f'expected the id before the class, got {raw!r}')
            continue
        if class_name is not None and class_name not in class_index:
            bad(
                'unknown_class', lineno,
                f'unknown class {class_name!r}, expected one of '
                f'{list(FRED_CLASSES)}')
            continue
        if class_name is None and class_mode == 'five':
            bad('missing_class', lineno, MISSING_CLASS_HINT)
            continue
        label = class_index[class_name] if class_mode == 'five' else 0
        x1, y1, x2, y2 = coords
        if x2 < x1 or y2 < y1:
            bad('inverted_box', lineno,
                f'box must satisfy x1 <= x2 and y1 <= y2, got {raw!r}')
            continue
        if img_size is not None:
            w, h = img_size
            tol = box_tolerance
            if x2 < -tol or y2 < -tol or x1 > w + tol or y1 > h + tol:
                bad(
                    'box_outside_frame', lineno,
                    f'box ({x1}, {y1}, {x2}, {y2}) lies outside the {w}x{h} '
                    f'frame by more than {tol} px')
                continue
            x1, x2 = min(max(x1, 0.), w), min(max(x2, 0.), w)
            y1, y2 = min(max(y1, 0.), h), min(max(y2, 0.), h)
        if x2 <= x1 or y2 <= y1:
            skipped['empty_box'] += 1
            continue
        boxes.append(FREDBox(time, (x1, y1, x2, y2), label, track_id, lineno))
    return ParsedCoordinates(boxes, problems, skipped,
                             _refused_lines(lines, problems))


def group_by_time(boxes: Sequence[FREDBox]) -> Tuple[List[float], list]:
    """Group boxes by their annotation time.

    Args:
        boxes (Sequence[FREDBox]): Parsed boxes.

    Returns:
        tuple: ``(times, groups)``: the sorted distinct times and, for each,
        the list of its boxes in file order.
    """
    by_time = {}
    for box in boxes:
        by_time.setdefault(box.time, []).append(box)
    times = sorted(by_time)
    return times, [by_time[t] for t in times]
