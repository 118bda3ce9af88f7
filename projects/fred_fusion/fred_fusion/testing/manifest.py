"""What a reader of a generated sample must find (the manifest): files,
times, pairs and boxes of every frame, built from the plan alone."""
from typing import Tuple

import numpy as np

from ..datasets.fred_classes import FRED_CLASSES
from .sample_presets import ANN_STEP, EVENT_STEP_US, ann_time, sample_settings
from .scene_plan import SequencePlan, plan_sample


def annotation_lines(seq: SequencePlan, img_size: Tuple[int, int]) -> dict:
    """Annotation lines per grid step ``k``.

    Returns:
        dict: ``k -> [(box, box_rgb, label, track_id), ...]`` with integer
        valued ``box`` (may leave the image) and ``box_rgb`` (clipped).
    """
    img_w, img_h = img_size
    lines = {}
    for k in range(seq.last_k + 1):
        t = float(ann_time(k))
        for drone in seq.drones:
            cx, cy, w, h = drone.box(t)
            box = [
                float(round(cx - w / 2)),
                float(round(cy - h / 2)),
                float(round(cx + w / 2)),
                float(round(cy + h / 2))
            ]
            clipped = [
                min(max(box[0], 0.0), img_w),
                min(max(box[1], 0.0), img_h),
                min(max(box[2], 0.0), img_w),
                min(max(box[3], 0.0), img_h)
            ]
            if clipped[2] - clipped[0] < 2 or clipped[3] - clipped[1] < 2:
                continue
            lines.setdefault(k, []).append(
                (box, clipped, drone.label, drone.track_id))
    return lines


def rgb_file_name(seq_id: str, wall_us: int) -> str:
    """Name of an RGB frame taken at a wall-clock time, as FRED names them.

    Args:
        seq_id (str): Sequence id.
        wall_us (int): Wall-clock time of the frame in microseconds after
            midnight.

    Returns:
        str: ``Video_<seq>_<HH>_<MM>_<SS.ffffff>.jpg``, e.g.
        ``Video_3_16_03_03.363563.jpg``.
    """
    seconds, micros = divmod(wall_us, 10**6)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return (f'Video_{seq_id}_{hours % 24:02d}_{minutes:02d}_'
            f'{secs:02d}.{micros:06d}.jpg')


def rgb_name(seq: SequencePlan, rel_us: int) -> str:
    """RGB file name with the wall-clock time of the frame."""
    return rgb_file_name(seq.seq_id, seq.start_us + rel_us)


def sequence_manifest(seq: SequencePlan, lines: dict) -> dict:
    """Manifest entry of one sequence (see :func:`generate_fred_sample`)."""
    event_us = np.array([k * EVENT_STEP_US for k in seq.event_ks])
    event_files = [
        f'Event/Frames/Video_{seq.seq_id}_{us}.png' for us in event_us
    ]
    rgb_frames = []
    for rel_us in seq.rgb_us:
        diffs = np.abs(event_us - rel_us)
        j = int(np.argmin(diffs))  # argmin takes the earlier one on ties
        time = rel_us / 1e6
        k = int(round(time / ANN_STEP))
        ann_t = float(ann_time(k))
        if abs(ann_t - time) > 1 / 60 - 0.004:
            raise ValueError(
                f'RGB frame at {time:.6f} s is {abs(ann_t - time):.6f} s '
                'from its annotation time; the sequence is too long for an '
                'unambiguous match, use fewer frames')
        frame_lines = lines.get(k, [])
        rgb_frames.append(
            dict(
                file=f'RGB/{rgb_name(seq, rel_us)}',
                time=time,
                event_file=event_files[j],
                event_time=int(event_us[j]) / 1e6,
                time_diff=(int(event_us[j]) - rel_us) / 1e6,
                ann_time=ann_t if frame_lines else None,
                boxes=[line[0] for line in frame_lines],
                boxes_rgb=[line[1] for line in frame_lines],
                labels=[line[2] for line in frame_lines],
                track_ids=[line[3] for line in frame_lines]))
    return dict(
        condition=seq.condition,
        rgb_frames=rgb_frames,
        event_frames=[
            dict(file=f, time_us=int(us))
            for f, us in zip(event_files, event_us)
        ],
        num_annotation_lines=sum(len(v) for v in lines.values()))


def plan_and_manifest(cfg: dict, preset: str,
                      seed: int) -> Tuple[dict, list, dict]:
    """Plan a sample and build its manifest without rendering."""
    sequences, splits = plan_sample(cfg, seed)
    all_lines = {
        s.seq_id: annotation_lines(s, cfg['img_size'])
        for s in sequences
    }
    manifest = dict(
        classes=list(FRED_CLASSES),
        img_size=list(cfg['img_size']),
        seed=seed,
        preset=preset,
        splits=splits,
        sequences={
            s.seq_id: sequence_manifest(s, all_lines[s.seq_id])
            for s in sequences
        })
    return manifest, sequences, all_lines


def build_fred_manifest(preset: str = 'tiny',
                        seed: int = 0,
                        **overrides) -> dict:
    """Manifest of the sample :func:`generate_fred_sample` would write.

    Nothing is rendered or written; arguments as in
    :func:`generate_fred_sample`.

    Returns:
        dict: The manifest.
    """
    cfg = sample_settings(preset, overrides)
    return plan_and_manifest(cfg, preset, seed)[0]
