"""Pair the RGB frames of a FRED sequence with event frames and boxes."""
import bisect
import os.path as osp
from collections import Counter
from typing import List, Sequence, Tuple

from ..datasets.fred_data_error import DataProblem
from .fred_annotation import RefusedLine, group_by_time
from .fred_sequence_scan import SequenceScan


def nearest_index(sorted_values: Sequence[float], value: float) -> int:
    """Index of the element nearest to ``value``; ties go to the earlier.

    Args:
        sorted_values (Sequence[float]): Non-empty, ascending.
        value (float): The query.

    Returns:
        int: Index into ``sorted_values``.
    """
    i = bisect.bisect_left(sorted_values, value)
    if i == 0:
        return 0
    if i == len(sorted_values):
        return i - 1
    before, after = value - sorted_values[i - 1], sorted_values[i] - value
    return i - 1 if before <= after else i


def pair_sequence(scan: SequenceScan,
                  seq_id: str,
                  seq_prefix: str,
                  fusion_threshold: float = 0.1,
                  ann_tolerance: float = 1 / 60) -> Tuple[list, list]:
    """Build one data-list entry per RGB frame of a scanned sequence.

    Each RGB frame is paired with the event frame nearest in time (the
    earlier of two equally near ones), compared in integer microseconds so
    that ties are exact. Boxes come from the annotation time nearest to the
    RGB time if it lies within ``ann_tolerance``; otherwise the frame has
    no boxes.

    Args:
        scan (SequenceScan): Output of :func:`scan_sequence`, with at least
            one event frame.
        seq_id (str): Sequence id.
        seq_prefix (str): Sequence folder relative to the data root.
        fusion_threshold (float): Largest ``|time_diff|`` in seconds that
            counts as a pair. Defaults to 0.1.
        ann_tolerance (float): Largest distance in seconds between an RGB
            frame and its annotation time. Defaults to 1/60.

    Returns:
        tuple: ``(entries, problems)``: the entries (without ``img_id``) and
        one ``'size_mismatch'`` problem per RGB frame whose event frame has
        another size (those frames are left out).
    """
    ann_times, ann_groups = group_by_time(scan.boxes)
    entries, problems = [], []
    for frame in scan.rgb_frames:
        rgb_us = round(frame.time * 1e6)
        j = nearest_index(scan.event_time_us, rgb_us)
        event = scan.event_frames[j]
        if event.size != frame.size:
            problems.append(
                DataProblem(
                    'size_mismatch', osp.join(seq_prefix, frame.file),
                    f'RGB frame is {frame.size[0]}x{frame.size[1]} but its '
                    f'event frame {osp.join(seq_prefix, event.file)} is '
                    f'{event.size[0]}x{event.size[1]}'))
            continue
        time_diff = (scan.event_time_us[j] - rgb_us) / 1e6
        instances, ann_time = [], None
        if ann_times:
            k = nearest_index(ann_times, frame.time)
            if abs(ann_times[k] - frame.time) <= ann_tolerance:
                ann_time = ann_times[k]
                instances = [
                    dict(
                        bbox=list(box.bbox),
                        bbox_label=box.label,
                        ignore_flag=0,
                        track_id=box.track_id) for box in ann_groups[k]
                ]
        entries.append(
            dict(
                seq=seq_id,
                img_path=osp.join(seq_prefix, frame.file),
                event_path=osp.join(seq_prefix, event.file),
                rgb_time=rgb_us / 1e6,
                event_time=event.time,
                time_diff=time_diff,
                paired=abs(time_diff) <= fusion_threshold,
                ann_time=ann_time,
                width=frame.size[0],
                height=frame.size[1],
                instances=instances))
    return entries, problems


def drop_refused_frames(entries: List[dict],
                        refused: Sequence[RefusedLine],
                        ann_tolerance: float = 1 / 60
                        ) -> Tuple[List[dict], Counter]:
    """Leave out the frames whose annotation line was refused.

    Such a frame would keep the boxes of the accepted lines only (a drone
    turned into background), so it is dropped. A frame is dropped when its
    time lies within ``ann_tolerance`` of the times a refused line may
    describe (:class:`RefusedLine`).

    Args:
        entries (list[dict]): Entries of one sequence from
            :func:`pair_sequence`, in time order.
        refused (Sequence[RefusedLine]): The refused lines of its
            annotation file.
        ann_tolerance (float): Frame-to-annotation time tolerance in
            seconds. Defaults to 1/60.

    Returns:
        tuple: ``(kept, dropped)``: the other entries, and the number of
        dropped frames by the kind of the first refused line that hit
        them, counted as ``'frames dropped (<kind>)'``.
    """
    times = [e['rgb_time'] for e in entries]
    hit = {}
    for line in refused:
        lo = bisect.bisect_left(times, line.first_time - ann_tolerance)
        hi = bisect.bisect_right(times, line.last_time + ann_tolerance)
        for i in range(lo, hi):
            hit.setdefault(i, line.problem.kind)
    dropped = Counter(f'frames dropped ({kind})' for kind in hit.values())
    return [e for i, e in enumerate(entries) if i not in hit], dropped


def summarize_entries(entries: List[dict]) -> dict:
    """Counts of a list of entries, to be summed over sequences.

    Args:
        entries (list[dict]): Entries from :func:`pair_sequence`.

    Returns:
        dict: ``frames``, ``paired``, ``sum_abs_diff`` (s),
        ``max_abs_diff`` (s), ``frames_without_boxes`` and
        ``boxes_per_label`` (dict label -> count).
    """
    boxes_per_label = {}
    for e in entries:
        for inst in e['instances']:
            label = inst['bbox_label']
            boxes_per_label[label] = boxes_per_label.get(label, 0) + 1
    diffs = [abs(e['time_diff']) for e in entries]
    return dict(
        frames=len(entries),
        paired=sum(e['paired'] for e in entries),
        sum_abs_diff=sum(diffs),
        max_abs_diff=max(diffs, default=0.),
        frames_without_boxes=sum(not e['instances'] for e in entries),
        boxes_per_label=boxes_per_label)
