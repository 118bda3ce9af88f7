"""The plan of a sample: timing, condition and drone tracks of every
sequence, and the splits. Nothing is rendered here."""
import math
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from .drone_styles import DRONE_STYLES
from .sample_presets import RGB_FPS

# Conditions cycle over the train and the test sequences separately; the test
# cycle starts with 'hover' so that small samples hold every condition.
_CONDITION_CYCLE = ('normal', 'dark', 'normal', 'hover')
_TEST_CYCLE_START = 3


@dataclass
class Drone:
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
class SequencePlan:
    """Timing, condition and drones of one sequence."""
    seq_id: str
    index: int
    condition: str
    start_us: int
    rgb_us: List[int]
    event_ks: List[int]
    last_k: int
    drones: List[Drone] = field(default_factory=list)


def _split_ids(num: int, num_test: int) -> List[int]:
    """Indices of the test sequences, spread evenly over ``range(num)``."""
    return [int(round((j + 1) * num / num_test)) - 1 for j in range(num_test)]


def make_drone(rng: np.random.Generator, cfg: dict, label: int, track_id: int,
               mode: str, duration: float) -> Drone:
    """Draw the track of one drone.

    ``mode`` is ``'inside'`` (always fully visible), ``'border'`` (crosses
    the border partly), ``'exit'`` (leaves the image and comes back) or
    ``'hover'`` (nearly still).
    """
    img_w, img_h = cfg['img_size']
    style = DRONE_STYLES[label]
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
        return Drone(label, track_id, style['aspect'], width, (cx, cy),
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
    return Drone(
        label,
        track_id,
        style['aspect'],
        width, (cx, cy), (x_amp, y_amp), (float(omega[0]), float(omega[1])),
        (x_phase, rng.uniform(0, 2 * math.pi)),
        scale_amp=scale_amp,
        scale_omega=2 * math.pi * rng.uniform(0.3, 0.8) / duration,
        scale_phase=rng.uniform(0, 2 * math.pi))


def assign_labels(drones: List[Tuple[str, str, int]],
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


def plan_sample(cfg: dict, seed: int) -> Tuple[List[SequencePlan], dict]:
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

    labels = assign_labels([(p[1], p[2], len(p[3])) for p in planned],
                           class_cycle)
    sequences = []
    for (index, split, condition, modes, rng, start_us, rgb_us, event_ks,
         last_k), seq_labels in zip(planned, labels):
        drones = [
            make_drone(rng, cfg, label, track_id, mode, duration)
            for track_id, (
                mode, label) in enumerate(zip(modes, seq_labels), start=1)
        ]
        sequences.append(
            SequencePlan(
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
