"""Synthetic RGB + event drone sequences in the released FRED layout.

The sample lets every FRED config run without downloading the dataset. It is
written exactly as the released FRED is laid out::

    ROOT/<seq_id>/RGB/Video_<seq>_<H>_<M>_<S.ffffff>.jpg
    ROOT/<seq_id>/Event/Frames/Video_<seq>_<time_us>.png
    ROOT/<seq_id>/coordinates.txt
    ROOT/<seq_id>/coordinates_rgb.txt
    ROOT/dataset_splits/{train,test,challenging_train,challenging_test}_split.txt

Time convention:

- The sequence starts at its first RGB frame. The time of an RGB frame is
  its wall-clock name minus the wall-clock name of the first RGB frame
  (``Video_3_16_03_03.363563.jpg`` is 16 h 03 min 3.363563 s). RGB frames
  come at 30 fps with a per-frame jitter of a few milliseconds (at most
  ``rgb_jitter_ms``, far below 1 / 60 s) and a random wall-clock start.
- Event frame ``k`` is named ``Video_<seq>_<k * 33333>.png``: integer
  microseconds on the same origin, i.e. ``time_us / 1e6`` seconds. The first
  event frames are trimmed (the stream starts 3 to 5 frames after the first
  RGB frame), the stream ends a few frames after the last RGB frame, and in
  every second sequence a gap of 4 to 6 event frames is missing in the
  middle. So there are more event frames than RGB frames, the first RGB
  frames have no event frame within 0.05 s, and the streams must be paired by
  time.
- Annotations lie on the event stream's grid: line time ``k * 0.033333``
  (written with 6 decimals) describes the drones at event frame ``k``. A
  line is written for every grid step from 0 to the last event frame at which
  a drone is visible, also where the event frame itself is missing.
- An RGB frame is matched to the annotation time within half a frame period
  (1 / 60 s) of it; the jitter keeps this match unique. It is paired with the
  event frame nearest in time; of two equally near event frames the earlier
  one is taken.

``coordinates.txt`` holds ``time: x1, y1, x2, y2, id, class`` boxes that may
reach outside the image where a drone crosses the border;
``coordinates_rgb.txt`` holds the same lines with the boxes clipped to
``[0, W] x [0, H]``. A drone is annotated while its clipped box is at least
2 px wide and high.

The world: a static camera looks at a textured sky above textured ground.
Drones of the five FRED classes (each with its own size, shape and colours)
move along smooth sinusoidal tracks, some touch the border or leave the image
and come back, and some sequences show two drones. Event frames come from a
simple event-camera model: a pixel fires an ON (white) or OFF (blue) event
when its log brightness moved by more than a threshold since its last event,
sampled at a few sub-steps per frame, plus sparse noise events; the static
background gives no events. Sequences have one of three conditions:
``'normal'``; ``'dark'`` (night exposure: the RGB frame is so dark that the
drone barely stands out while the event camera, working on log brightness,
still sees it clearly); ``'hover'`` (the drone is nearly still: clear in RGB,
almost no events).

Everything is drawn from ``numpy.random.Generator`` streams seeded by
``seed``, so a preset and a seed always give the same bytes.
"""
import json
import math
import os
import os.path as osp
import shutil
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfusion.utils.fileio import atomic_write_text
from ..datasets.fred_classes import FRED_CLASSES

#: Name of the dot-file written at the sample root once it is complete.
SAMPLE_STAMP = '.sample_stamp.json'

#: Annotation / event grid step in seconds, as in the released files.
ANN_STEP = 0.033333
#: Event frame ``k`` is written at ``k * EVENT_STEP_US`` microseconds.
EVENT_STEP_US = 33333
#: RGB frames come at 30 fps.
RGB_FPS = 30.0

#: Event frame colours in BGR order (RGB (30, 37, 52), (64, 126, 200),
#: (255, 255, 255)), as in the released event frames.
EVENT_BACKGROUND = (52, 37, 30)
EVENT_OFF = (200, 126, 64)
EVENT_ON = (255, 255, 255)

SPLIT_NAMES = ('train', 'test', 'challenging_train', 'challenging_test')
CONDITIONS = ('normal', 'dark', 'hover')

_COMMON = dict(
    rgb_jitter_ms=4.0,
    event_substeps=3,
    event_threshold=0.25,
    noise_event_rate=1e-3,
    drone_scale=1.0,
    jpeg_quality=90)

#: Preset sizes; any key may be overridden through ``**overrides``. Every
#: preset has the 16:9 frames of the released FRED (1280x720), so that a
#: model trained on a sample letterboxes real frames the way it was trained.
PRESETS: Dict[str, dict] = dict(
    tiny=dict(
        _COMMON,
        num_sequences=4,
        num_test=2,
        num_frames=20,
        img_size=(160, 90)),
    demo=dict(
        _COMMON,
        num_sequences=12,
        num_test=4,
        num_frames=48,
        img_size=(320, 180)),
    large=dict(
        _COMMON,
        num_sequences=16,
        num_test=6,
        num_frames=300,
        img_size=(1280, 720),
        event_substeps=2,
        drone_scale=0.5))

# Conditions cycle over the train and the test sequences separately; the test
# cycle starts with 'hover' so that small samples hold every condition.
_CONDITION_CYCLE = ('normal', 'dark', 'normal', 'hover')
_TEST_CYCLE_START = 3


def _corners(part: tuple, u: float, v: float) -> list:
    """Four copies of a drone part centred at ``(+-u, +-v)``."""
    return [(part[0], (su * u, sv * v)) + part[1:] for su in (-1, 1)
            for sv in (-1, 1)]


# Drone appearance per class: box aspect (w / h), width as a fraction of the
# image width, and parts in box units (u, v in [-0.5, 0.5]) with BGR colours.
# ('disc', centre, radii, colour) is a filled ellipse, ('ring', centre,
# radii, colour, thickness) an ellipse outline, ('line', p1, p2, colour,
# thickness), ('rect', p1, p2, colour) a filled rectangle; thicknesses are
# fractions of the box height.
_DRONE_STYLES = (
    dict(  # DJI Mini 2: grey X frame, light rotors
        aspect=1.7,
        width=0.09,
        parts=[
            ('line', (-0.36, -0.3), (0.36, 0.3), (60, 60, 65), 0.1),
            ('line', (-0.36, 0.3), (0.36, -0.3), (60, 60, 65), 0.1),
            *_corners(('disc', (0.14, 0.2), (150, 150, 155)), 0.36, 0.3),
            ('disc', (0.0, 0.0), (0.2, 0.28), (75, 75, 80)),
        ]),
    dict(  # DJI Mini 3: wide, dark body, thin rotor outlines
        aspect=2.0,
        width=0.12,
        parts=[
            ('line', (-0.38, -0.28), (0.38, 0.28), (50, 50, 55), 0.08),
            ('line', (-0.38, 0.28), (0.38, -0.28), (50, 50, 55), 0.08),
            *_corners(
                ('ring', (0.1, 0.19), (110, 110, 120), 0.07), 0.39, 0.29),
            ('disc', (0.0, 0.0), (0.24, 0.3), (40, 40, 45)),
        ]),
    dict(  # DJI Tello EDU: small, white body, black rotor guards
        aspect=1.2,
        width=0.07,
        parts=[
            *_corners(('ring', (0.19, 0.19), (20, 20, 20), 0.1), 0.3, 0.3),
            ('rect', (-0.2, -0.24), (0.2, 0.24), (235, 235, 235)),
        ]),
    dict(  # DarwinFPV cineape20: black square frame, orange ducts
        aspect=1.25,
        width=0.085,
        parts=[
            ('rect', (-0.22, -0.22), (0.22, 0.22), (25, 25, 30)),
            *_corners(('ring', (0.2, 0.2), (0, 130, 255), 0.12), 0.28, 0.28),
        ]),
    dict(  # Betafpv air75: tiny, green ducts, red body
        aspect=1.45,
        width=0.055,
        parts=[
            *_corners(('disc', (0.2, 0.22), (50, 170, 40)), 0.3, 0.28),
            ('disc', (0.0, 0.0), (0.22, 0.3), (40, 40, 210)),
        ]),
)

# RGB camera per condition: per-channel gain (BGR), offset and noise sigma.
_CAMERAS = dict(
    normal=dict(gain=(1.0, 1.0, 1.0), offset=0.0, noise=2.0),
    hover=dict(gain=(1.0, 1.0, 1.0), offset=0.0, noise=2.0),
    dark=dict(gain=(0.06, 0.035, 0.03), offset=2.0, noise=1.5))

_SHIFT = 4  # sub-pixel bits of the cv2 drawing calls
_LOG_LUT = np.log(np.arange(256, dtype=np.float32) + 8.0)


@dataclass
class _Drone:
    """A drone moving along a smooth track; times in seconds."""
    label: int
    track_id: int
    aspect: float
    width: float
    centre: Tuple[float, float]
    amp: Tuple[float, float]
    omega: Tuple[float, float]
    phase: Tuple[float, float]
    scale_amp: float = 0.0
    scale_omega: float = 0.0
    scale_phase: float = 0.0

    def box(self, t: float) -> Tuple[float, float, float, float]:
        """Box ``(cx, cy, w, h)`` of the drone at time ``t``."""
        cx = self.centre[0] + self.amp[0] * math.sin(self.omega[0] * t +
                                                     self.phase[0])
        cy = self.centre[1] + self.amp[1] * math.sin(self.omega[1] * t +
                                                     self.phase[1])
        w = self.width * (1.0 + self.scale_amp *
                          math.sin(self.scale_omega * t + self.scale_phase))
        return cx, cy, w, w / self.aspect


@dataclass
class _Sequence:
    """Timing, condition and drones of one sequence."""
    seq_id: str
    index: int
    condition: str
    start_us: int
    rgb_us: List[int]
    event_ks: List[int]
    last_k: int
    drones: List[_Drone] = field(default_factory=list)


def _settings(preset: str, overrides: dict) -> dict:
    """Merge a preset with overrides and check the result."""
    if preset not in PRESETS:
        raise ValueError(f'Unknown preset {preset!r}; choose one of '
                         f'{sorted(PRESETS)}')
    cfg = dict(PRESETS[preset])
    unknown = sorted(set(overrides) - set(cfg))
    if unknown:
        raise ValueError(f'Unknown sample setting(s) {unknown}; valid '
                         f'settings are {sorted(cfg)}')
    cfg.update(overrides)
    w, h = (int(v) for v in cfg['img_size'])
    cfg['img_size'] = (w, h)
    if w < 32 or h < 32:
        raise ValueError(f'img_size must be at least 32x32, got {w}x{h}')
    if cfg['num_sequences'] < 1:
        raise ValueError('num_sequences must be at least 1, got '
                         f'{cfg["num_sequences"]}')
    if not 0 <= cfg['num_test'] <= cfg['num_sequences']:
        raise ValueError(f'num_test must lie in [0, num_sequences], got '
                         f'{cfg["num_test"]}')
    if cfg['num_frames'] < 8:
        raise ValueError('num_frames must be at least 8, got '
                         f'{cfg["num_frames"]}')
    if not 0 <= cfg['rgb_jitter_ms'] <= 8:
        raise ValueError('rgb_jitter_ms must lie in [0, 8] so that every RGB '
                         'frame matches one annotation time, got '
                         f'{cfg["rgb_jitter_ms"]}')
    return cfg


def _ann_time(k: int) -> str:
    """Annotation time of grid step ``k`` as written in the files."""
    return f'{k * ANN_STEP:.6f}'


def _split_ids(num: int, num_test: int) -> List[int]:
    """Indices of the test sequences, spread evenly over ``range(num)``."""
    return [int(round((j + 1) * num / num_test)) - 1 for j in range(num_test)]


def _make_drone(rng: np.random.Generator, cfg: dict, label: int, track_id: int,
                mode: str, duration: float) -> _Drone:
    """Draw the track of one drone.

    ``mode`` is ``'inside'`` (always fully visible), ``'border'`` (crosses
    the border partly), ``'exit'`` (leaves the image and comes back) or
    ``'hover'`` (nearly still).
    """
    img_w, img_h = cfg['img_size']
    style = _DRONE_STYLES[label]
    width = (
        style['width'] * img_w * cfg['drone_scale'] * rng.uniform(0.85, 1.35))
    height = width / style['aspect']
    horizon = 0.7 * img_h
    scale_amp = 0.0 if mode == 'hover' else 0.15
    # Half extents with room for the size variation and a 2 px margin.
    half_w = 0.5 * width * (1 + scale_amp) + 2
    half_h = 0.5 * height * (1 + scale_amp) + 2
    y_lo, y_hi = half_h, max(half_h + 1, horizon - 0.5 * half_h)
    cy = rng.uniform(y_lo, y_hi)
    cx = rng.uniform(
        max(half_w, 0.25 * img_w), min(img_w - half_w, 0.75 * img_w))
    if mode == 'hover':
        return _Drone(label, track_id, style['aspect'], width, (cx, cy),
                      (0.15, 0.15), (2 * math.pi * 0.7, 2 * math.pi * 0.5),
                      tuple(rng.uniform(0, 2 * math.pi, 2)))
    cycles = rng.uniform(0.8, 1.3, 2)
    omega = 2 * math.pi * cycles / duration
    y_amp = rng.uniform(0.3, 0.9) * min(cy - y_lo, y_hi - cy)
    if mode == 'inside':
        x_amp = rng.uniform(0.4, 0.9) * min(cx - half_w, img_w - half_w - cx)
        x_phase = rng.uniform(0, 2 * math.pi)
    else:
        # Reach the outside fraction ``out`` of the box at a peak time in
        # the middle of the sequence, on the left or the right border.
        out = rng.uniform(0.25, 0.6) if mode == 'border' else rng.uniform(
            1.1, 1.4)
        right = rng.random() < 0.5
        target = (
            img_w + width * (out - 0.5) if right else -width * (out - 0.5))
        x_amp = abs(target - cx)
        t_peak = rng.uniform(0.3, 0.7) * duration
        peak = math.pi / 2 if target > cx else -math.pi / 2
        x_phase = peak - omega[0] * t_peak
    return _Drone(
        label,
        track_id,
        style['aspect'],
        width, (cx, cy), (x_amp, y_amp), (float(omega[0]), float(omega[1])),
        (x_phase, rng.uniform(0, 2 * math.pi)),
        scale_amp=scale_amp,
        scale_omega=2 * math.pi * rng.uniform(0.3, 0.8) / duration,
        scale_phase=rng.uniform(0, 2 * math.pi))


def _assign_labels(drones: List[Tuple[str, str, int]],
                   class_cycle: List[int]) -> List[List[int]]:
    """Classes of the drones of every sequence.

    Each split takes classes from ``class_cycle`` in turn, first for the
    drones of its normal scenes, then of its dark ones, then of its hovering
    ones (each group in sequence order). So every split holds every class
    as soon as it has five drones, every class is seen in the normal scenes
    (where both modalities show it) before any is given to a condition, and
    no class is tied to a condition. The test split starts three classes
    later in the cycle, so that tiny samples, with fewer than five drones a
    split, still hold every class between their splits.

    Args:
        drones (list[tuple[str, str, int]]): ``(split, condition, number of
            drones)`` of each sequence, in sequence order.
        class_cycle (list[int]): A permutation of the class indices.

    Returns:
        list[list[int]]: The class of each drone of each sequence.
    """
    labels = [[0] * n for _, _, n in drones]
    for split, start in (('train', 0), ('test', 3)):
        j = start
        for condition in ('normal', 'dark', 'hover'):
            for i, (s, c, n) in enumerate(drones):
                if (s, c) != (split, condition):
                    continue
                for k in range(n):
                    labels[i][k] = class_cycle[j % len(class_cycle)]
                    j += 1
    return labels


def _plan(cfg: dict, seed: int) -> Tuple[List[_Sequence], dict]:
    """Draw timing and drone tracks of every sequence, and the splits."""
    num = cfg['num_sequences']
    test_idx = set(_split_ids(num, cfg['num_test']))
    # Drone classes: see _assign_labels.
    class_cycle = np.random.default_rng([seed, 0]).permutation(5).tolist()
    fps_step_us = 1e6 / RGB_FPS
    jitter_us = int(cfg['rgb_jitter_ms'] * 1000)
    duration = cfg['num_frames'] / RGB_FPS
    counts = {'train': 0, 'test': 0, 'normal': 0}
    planned = []
    for index in range(num):
        rng = np.random.default_rng([seed, 1, index])
        split = 'test' if index in test_idx else 'train'
        start = _TEST_CYCLE_START if split == 'test' else 0
        condition = _CONDITION_CYCLE[(start + counts[split]) %
                                     len(_CONDITION_CYCLE)]
        counts[split] += 1

        # RGB wall clock: random start between 09:00 and 19:00, 30 fps with
        # jitter; the first frame is the time origin.
        n_rgb = cfg['num_frames']
        start_us = int(
            rng.integers(9 * 3600, 19 * 3600) * 10**6 + rng.integers(0, 10**6))
        jitter = rng.integers(-jitter_us, jitter_us + 1, n_rgb)
        jitter[0] = 0
        rgb_us = [
            int(round(i * fps_step_us)) + int(jitter[i]) for i in range(n_rgb)
        ]

        # Event stream: trimmed start, optional gap, a longer end.
        first_k = int(rng.integers(3, 6))
        gap = []
        if index % 2 == 1 and n_rgb >= 16:
            gap_len = int(rng.integers(4, 7))
            gap_start = int(rng.integers(int(0.4 * n_rgb), int(0.6 * n_rgb)))
            gap = list(range(gap_start, gap_start + gap_len))
        last_k = n_rgb - 1 + first_k + len(gap) + int(rng.integers(2, 5))
        gap_set = set(gap)
        event_ks = [k for k in range(first_k, last_k + 1) if k not in gap_set]

        if condition == 'hover':
            modes = ['hover']
        elif condition == 'dark':
            modes = ['inside']
        else:
            # Normal sequences alternate two drones (one crossing the
            # border) and one drone that leaves the image for a while.
            two = counts['normal'] % 2 == 0
            modes = ['inside', 'border'] if two else ['exit']
            counts['normal'] += 1
        planned.append((index, split, condition, modes, rng, start_us, rgb_us,
                        event_ks, last_k))

    labels = _assign_labels([(p[1], p[2], len(p[3])) for p in planned],
                            class_cycle)
    sequences = []
    for (index, split, condition, modes, rng, start_us, rgb_us, event_ks,
         last_k), seq_labels in zip(planned, labels):
        drones = [
            _make_drone(rng, cfg, label, track_id, mode, duration)
            for track_id, (
                mode, label) in enumerate(zip(modes, seq_labels), start=1)
        ]
        sequences.append(
            _Sequence(
                str(index), index, condition, start_us, rgb_us, event_ks,
                last_k, drones))

    ids = [s.seq_id for s in sequences]
    test = [ids[i] for i in sorted(test_idx)]
    # The challenging split tests on the dark and hover sequences first.
    hard_first = sorted(
        sequences, key=lambda s: (s.condition == 'normal', s.index))
    ch_test_set = {s.seq_id for s in hard_first[:cfg['num_test']]}
    splits = dict(
        train=[i for i in ids if i not in test],
        test=test,
        challenging_train=[i for i in ids if i not in ch_test_set],
        challenging_test=[i for i in ids if i in ch_test_set])
    return sequences, splits


def _annotations(seq: _Sequence, img_size: Tuple[int, int]) -> dict:
    """Annotation lines per grid step ``k``.

    Returns:
        dict: ``k -> [(box, box_rgb, label, track_id), ...]`` with integer
        valued ``box`` (may leave the image) and ``box_rgb`` (clipped).
    """
    img_w, img_h = img_size
    lines = {}
    for k in range(seq.last_k + 1):
        t = float(_ann_time(k))
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


def _rgb_name(seq: _Sequence, rel_us: int) -> str:
    """RGB file name with the wall-clock time of the frame."""
    return rgb_file_name(seq.seq_id, seq.start_us + rel_us)


def _sequence_manifest(seq: _Sequence, lines: dict) -> dict:
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
        ann_time = float(_ann_time(k))
        if abs(ann_time - time) > 1 / 60 - 0.004:
            raise ValueError(
                f'RGB frame at {time:.6f} s is {abs(ann_time - time):.6f} s '
                'from its annotation time; the sequence is too long for an '
                'unambiguous match, use fewer frames')
        frame_lines = lines.get(k, [])
        rgb_frames.append(
            dict(
                file=f'RGB/{_rgb_name(seq, rel_us)}',
                time=time,
                event_file=event_files[j],
                event_time=int(event_us[j]) / 1e6,
                time_diff=(int(event_us[j]) - rel_us) / 1e6,
                ann_time=ann_time if frame_lines else None,
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


def _manifest(cfg: dict, preset: str, seed: int) -> Tuple[dict, list, dict]:
    """Plan a sample and build its manifest without rendering."""
    sequences, splits = _plan(cfg, seed)
    all_lines = {s.seq_id: _annotations(s, cfg['img_size']) for s in sequences}
    manifest = dict(
        classes=list(FRED_CLASSES),
        img_size=list(cfg['img_size']),
        seed=seed,
        preset=preset,
        splits=splits,
        sequences={
            s.seq_id: _sequence_manifest(s, all_lines[s.seq_id])
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
    cfg = _settings(preset, overrides)
    return _manifest(cfg, preset, seed)[0]


def _make_background(rng: np.random.Generator, img_w: int,
                     img_h: int) -> np.ndarray:
    """Textured sky above textured ground with a tree line.

    Returns:
        np.ndarray: BGR image of shape (H, W, 3), uint8.
    """

    def smooth_noise(cells_x: int, cells_y: int) -> np.ndarray:
        coarse = rng.random((cells_y, cells_x)).astype(np.float32)
        return cv2.resize(
            coarse, (img_w, img_h), interpolation=cv2.INTER_CUBIC)

    ys = np.linspace(0.0, 1.0, img_h, dtype=np.float32)[:, None, None]
    sky_top = np.array(
        rng.uniform([170, 120, 70], [210, 160, 110]), np.float32)
    sky_low = np.array(
        rng.uniform([225, 205, 180], [245, 225, 205]), np.float32)
    sky = sky_top * (1 - ys) + sky_low * ys
    clouds = np.clip(smooth_noise(6, 4) * 1.6 - 0.7, 0, 1)[..., None]
    sky = sky * (1 - 0.6 * clouds) + 245 * 0.6 * clouds
    sky = np.broadcast_to(sky, (img_h, img_w, 3))

    ground_col = np.array(
        rng.uniform([40, 80, 60], [70, 120, 100]), np.float32)
    texture = (
        smooth_noise(max(img_w // 8, 2), max(img_h // 8, 2)) * 0.5 +
        rng.random((img_h, img_w)).astype(np.float32) * 0.3 + 0.6)
    ground = ground_col * texture[..., None]
    # Tree line: the horizon rises and falls along the image width.
    row = (0.72 + 0.06 * smooth_noise(max(img_w // 12, 2), 1)[0] - 0.03)
    horizon = (row * img_h)[None, :]
    below = (np.arange(img_h, dtype=np.float32)[:, None] >= horizon)
    image = np.where(below[..., None], ground, sky)
    return np.clip(image, 0, 255).astype(np.uint8)


def _camera_colour(colour: Sequence[int], camera: dict) -> Tuple[int, ...]:
    """Colour of a scene colour in the RGB camera (BGR)."""
    return tuple(
        int(min(255, round(c * g + camera['offset'])))
        for c, g in zip(colour, camera['gain']))


def _draw_drones(canvas: np.ndarray,
                 drones: Sequence[_Drone],
                 t: float,
                 origin: Tuple[int, int] = (0, 0),
                 camera: Optional[dict] = None) -> None:
    """Draw the drones at time ``t`` in place on ``canvas`` (H, W, 3).

    ``origin`` is the image position of the canvas' top-left pixel;
    ``camera`` maps the scene colours to the RGB camera's colours.
    """
    one = 1 << _SHIFT
    for drone in drones:
        cx, cy, w, h = drone.box(t)
        cx, cy = cx - origin[0], cy - origin[1]

        def pt(u, v):
            return (int(round((cx + u * w - 0.5) * one)),
                    int(round((cy + v * h - 0.5) * one)))

        for part in _DRONE_STYLES[drone.label]['parts']:
            kind, colour = part[0], part[3]
            if camera is not None:
                colour = _camera_colour(colour, camera)
            if kind == 'line':
                cv2.line(canvas, pt(*part[1]), pt(*part[2]), colour,
                         max(1, round(part[4] * h)), cv2.LINE_AA, _SHIFT)
            elif kind == 'rect':
                (u1, v1), (u2, v2) = part[1], part[2]
                poly = np.array([
                    pt(u1, v1), pt(u2, v1),
                    pt(u2, v2), pt(u1, v2)
                ], np.int32)
                cv2.fillConvexPoly(canvas, poly, colour, cv2.LINE_AA, _SHIFT)
            else:
                axes = (int(round(part[2][0] * w * one)),
                        int(round(part[2][1] * h * one)))
                thick = (-1 if kind == 'disc' else max(1, round(part[4] * h)))
                cv2.ellipse(canvas, pt(*part[1]), axes, 0, 0, 360, colour,
                            thick, cv2.LINE_AA, _SHIFT)


def _drone_roi(drones: Sequence[_Drone], t0: float, t1: float,
               img_size: Tuple[int, int]) -> List[Tuple[int, int, int, int]]:
    """Image regions ``(x0, y0, x1, y1)`` a drone covers from t0 to t1."""
    rois = []
    for drone in drones:
        boxes = [drone.box(t0), drone.box(t1)]
        x0 = min(cx - w / 2 for cx, _, w, _ in boxes) - 3
        x1 = max(cx + w / 2 for cx, _, w, _ in boxes) + 3
        y0 = min(cy - h / 2 for _, cy, _, h in boxes) - 3
        y1 = max(cy + h / 2 for _, cy, _, h in boxes) + 3
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(x1) + 1, img_size[0]), min(int(y1) + 1, img_size[1])
        if x1 > x0 and y1 > y0:
            rois.append((x0, y0, x1, y1))
    return rois


def _log_brightness(image: np.ndarray) -> np.ndarray:
    """Log brightness (H, W) of a BGR image (H, W, 3)."""
    return _LOG_LUT[cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)]


def _render_sequence(seq: _Sequence, cfg: dict, seed: int,
                     seq_dir: str) -> None:
    """Write the RGB and event frames of one sequence."""
    rng = np.random.default_rng([seed, 2, seq.index])
    img_w, img_h = cfg['img_size']
    background = _make_background(rng, img_w, img_h)
    camera = _CAMERAS[seq.condition]
    rgb_dir = osp.join(seq_dir, 'RGB')
    event_dir = osp.join(seq_dir, 'Event', 'Frames')
    os.makedirs(rgb_dir)
    os.makedirs(event_dir)

    # RGB: camera exposure of the scene plus sensor noise (a random crop of
    # one noise field per sequence).
    gain = np.array(camera['gain'], np.float32)
    rgb_background = np.clip(background * gain + camera['offset'], 0,
                             255).astype(np.uint8)
    pad = 16
    noise = np.round(
        rng.normal(0, camera['noise'],
                   (img_h + pad, img_w + pad, 3))).astype(np.int16)
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, int(cfg['jpeg_quality'])]
    for rel_us in seq.rgb_us:
        frame = rgb_background.copy()
        _draw_drones(frame, seq.drones, rel_us / 1e6, camera=camera)
        dx, dy = rng.integers(0, pad, 2)
        noisy = frame + noise[dy:dy + img_h, dx:dx + img_w]
        frame = np.clip(noisy, 0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(rgb_dir, _rgb_name(seq, rel_us)), frame, jpeg)

    # Events: per pixel, fire when the log brightness moved by more than the
    # threshold since the pixel's last event; only drone regions can change.
    threshold = cfg['event_threshold']
    substeps = int(cfg['event_substeps'])
    noise_rate = cfg['noise_event_rate'] * (2
                                            if seq.condition == 'dark' else 1)
    first_k = seq.event_ks[0]
    t_prev = float(_ann_time(first_k - 1))
    scene = background.copy()
    _draw_drones(scene, seq.drones, t_prev)
    reference = _log_brightness(scene)
    written = set(seq.event_ks)
    for k in range(first_k, seq.last_k + 1):
        t_k = k * EVENT_STEP_US / 1e6
        polarity = np.zeros((img_h, img_w), np.int8)
        for step in range(1, substeps + 1):
            t = t_prev + (t_k - t_prev) * step / substeps
            for x0, y0, x1, y1 in _drone_roi(seq.drones, t_prev, t,
                                             (img_w, img_h)):
                patch = background[y0:y1, x0:x1].copy()
                _draw_drones(patch, seq.drones, t, origin=(x0, y0))
                log_now = _log_brightness(patch)
                ref = reference[y0:y1, x0:x1]
                change = log_now - ref
                on, off = change > threshold, change < -threshold
                pol = polarity[y0:y1, x0:x1]
                pol[on] = 1
                pol[off] = -1
                fired = on | off
                ref[fired] = log_now[fired]
            t_prev = t
        t_prev = t_k
        if k not in written:
            continue
        num_noise = rng.poisson(noise_rate * img_w * img_h)
        ys = rng.integers(0, img_h, num_noise)
        xs = rng.integers(0, img_w, num_noise)
        polarity[ys, xs] = np.where(rng.random(num_noise) < 0.3, 1, -1)
        event = np.empty((img_h, img_w, 3), np.uint8)
        event[:] = EVENT_BACKGROUND
        event[polarity > 0] = EVENT_ON
        event[polarity < 0] = EVENT_OFF
        cv2.imwrite(
            osp.join(event_dir, f'Video_{seq.seq_id}_{k * EVENT_STEP_US}.png'),
            event)


def _write_annotations(path: str, lines: dict, clipped: bool) -> None:
    """Write ``coordinates.txt`` (or the clipped ``coordinates_rgb.txt``)."""
    with open(path, 'w') as f:
        for k in sorted(lines):
            for box, box_rgb, label, track_id in lines[k]:
                x1, y1, x2, y2 = box_rgb if clipped else box
                f.write(f'{_ann_time(k)}: {x1:.1f}, {y1:.1f}, {x2:.1f}, '
                        f'{y2:.1f}, {track_id}, {FRED_CLASSES[label]}\n')


def _write_stamp(root: str, preset: str, seed: int, overrides: dict,
                 counts: dict, complete: bool) -> None:
    """Write the sample stamp: settings and frame counts per sequence."""
    stamp = dict(
        preset=preset,
        seed=seed,
        overrides=json.loads(json.dumps(overrides)),
        complete=complete,
        sequences=counts)
    atomic_write_text(
        osp.join(root, SAMPLE_STAMP), json.dumps(stamp, indent=1))


def _clear_root(root: str) -> None:
    """Make ``root`` ready for a sample; only a former sample is removed."""
    if not osp.isdir(root):
        os.makedirs(root)
        return
    entries = os.listdir(root)
    if not entries:
        return
    stamp_path = osp.join(root, SAMPLE_STAMP)
    if not osp.isfile(stamp_path):
        raise FileExistsError(
            f'{root} is not empty and holds no {SAMPLE_STAMP}, so it is not '
            'a generated sample; refusing to write into it')
    try:
        with open(stamp_path) as f:
            old = json.load(f)
        old_ids = list(old['sequences'])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f'{stamp_path}: unreadable sample stamp ({e}); '
                         'remove the directory by hand') from e
    os.remove(stamp_path)
    for name in old_ids + ['dataset_splits']:
        path = osp.join(root, name)
        if osp.isdir(path):
            shutil.rmtree(path)


def generate_fred_sample(root: str,
                         preset: str = 'tiny',
                         seed: int = 0,
                         **overrides) -> dict:
    """Write a synthetic FRED sample in the released on-disk layout.

    See the module docstring for the layout, the time convention and the
    simulated world. ``root`` must be empty, missing, or a former sample
    (recognised by its ``.sample_stamp.json``, which is replaced).

    Args:
        root (str): Directory to write the sample into.
        preset (str): ``'tiny'`` (4 sequences of 20 frames, 160x90, for
            tests), ``'demo'`` (12 sequences of 48 frames, 320x180, to train
            on a CPU) or ``'large'`` (16 sequences of 300 frames, 1280x720,
            for benchmarks). Defaults to ``'tiny'``.
        seed (int): Seed of all random draws. Defaults to 0.
        **overrides: Preset settings to change: ``num_sequences``,
            ``num_test``, ``num_frames`` (RGB frames per sequence),
            ``img_size`` (W, H), ``rgb_jitter_ms``, ``event_substeps``,
            ``event_threshold``, ``noise_event_rate``, ``drone_scale``,
            ``jpeg_quality``.

    Returns:
        dict: The manifest, what a reader of the files must find::

            {'classes': [5 names], 'img_size': [W, H], 'seed': int,
             'preset': str,
             'splits': {'train' | 'test' | 'challenging_train' |
                        'challenging_test': [seq_id, ...]},
             'sequences': {seq_id: {
                 'condition': 'normal' | 'dark' | 'hover',
                 'rgb_frames': [{
                     'file': 'RGB/Video_...jpg',  # relative to ROOT/seq_id
                     'time': float,  # s after the first RGB frame
                     'event_file': 'Event/Frames/Video_<seq>_<us>.png',
                     'event_time': float,  # s, nearest event frame
                     'time_diff': float,  # event_time - time
                     'ann_time': float or None,  # within 1/60 s
                     'boxes': [[x1, y1, x2, y2], ...],  # coordinates.txt
                     'boxes_rgb': [[x1, y1, x2, y2], ...],  # clipped
                     'labels': [int, ...], 'track_ids': [int, ...]}, ...],
                 'event_frames': [{'file': str, 'time_us': int}, ...],
                 'num_annotation_lines': int}}}
    """
    cfg = _settings(preset, overrides)
    manifest, sequences, all_lines = _manifest(cfg, preset, seed)
    _clear_root(root)
    # A stamp marked incomplete lets a re-run clean up an interrupted one.
    _write_stamp(root, preset, seed, overrides,
                 {seq.seq_id: None
                  for seq in sequences}, False)
    for seq in sequences:
        seq_dir = osp.join(root, seq.seq_id)
        _render_sequence(seq, cfg, seed, seq_dir)
        lines = all_lines[seq.seq_id]
        _write_annotations(osp.join(seq_dir, 'coordinates.txt'), lines, False)
        _write_annotations(
            osp.join(seq_dir, 'coordinates_rgb.txt'), lines, True)
    split_dir = osp.join(root, 'dataset_splits')
    os.makedirs(split_dir)
    for name in SPLIT_NAMES:
        with open(osp.join(split_dir, f'{name}_split.txt'), 'w') as f:
            f.writelines(f'{seq_id}/\n' for seq_id in manifest['splits'][name])
    _write_stamp(
        root, preset, seed, overrides, {
            seq_id:
            dict(
                rgb=len(entry['rgb_frames']), event=len(entry['event_frames']))
            for seq_id, entry in manifest['sequences'].items()
        }, True)
    return manifest
