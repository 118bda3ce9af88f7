"""Stretches of a generated sequence where one sensor fails in its own way
(used only by :mod:`.hard_sample`).

LiDAR-degenerate stretches are made by the scene, camera-bad ones by the
exposure of the images:

- ``open_road``: no static object within the LiDAR's range (the ground
  alone constrains height, roll and pitch: a registration slides forward,
  sideways and in yaw); moving cars stay.
- ``corridor``: continuous plain walls on both sides and nothing else
  within the LiDAR's range (the registration slides along the road). The
  walls begin and end that range before and after the stretch, so that
  their openings are out of sight in it.
- ``dark``: a low exposure (night, tunnel): the image is a few grey levels
  deep and its noise as large as its texture.
- ``overexposed``: a high gain (glare): most of the image saturates.
- ``blur``: a long exposure: every image is the mean of renders along the
  motion during it.

A stretch is a dict ``kind``, ``sensor`` (``'lidar'`` or ``'camera'``),
``first`` / ``last`` (frames, inclusive), ``arc`` (road arcs of those
frames, m) and the kind's parameters; the manifest of the sample lists them
per sequence.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

LIDAR_KINDS = ('open_road', 'corridor')
CAMERA_KINDS = ('dark', 'overexposed', 'blur')


def _parameters(kind: str, rng: np.random.Generator) -> dict:
    if kind == 'dark':
        return dict(gain=float(rng.uniform(0.05, 0.09)), noise=3.0)
    if kind == 'overexposed':
        return dict(gain=float(rng.uniform(3.5, 5.0)), noise=2.0)
    if kind == 'blur':
        return dict(exposure=float(rng.uniform(0.04, 0.07)), renders=7)
    return {}


def _turn(headings: np.ndarray, arcs: np.ndarray, first: int, last: int,
          reach: float) -> float:
    """Largest heading change (rad) over the frames within ``reach`` (m)
    of frames ``first..last``."""
    near = (arcs >= arcs[first] - reach) & (arcs <= arcs[last] + reach)
    h = np.unwrap(headings[near])
    return float(h.max() - h.min())


def _extent(arcs: np.ndarray, first: int, last: int,
            reach: float) -> Tuple[int, int]:
    """First and last frames within ``reach`` (m) of frames
    ``first..last``."""
    near = np.flatnonzero((arcs >= arcs[first] - reach)
                          & (arcs <= arcs[last] + reach))
    return int(near[0]), int(near[-1])


def _try_place(kinds, arcs, length, rng, gap, lead, reach, headings, max_turn,
               turn_reach, isolate):
    """One random placement, LiDAR stretches first, each at a start drawn
    among those still free: ``{kind: (first, last, extent)}`` or None."""
    num = len(arcs)
    placed, blocks = {}, []
    for kind in sorted(kinds, key=lambda k: k not in LIDAR_KINDS):
        n = int(rng.integers(length[0], length[1] + 1))
        lidar = kind in LIDAR_KINDS
        free = []
        for first in range(lead, num - n + 1):
            last = first + n - 1
            extent = _extent(arcs, first, last, reach) if lidar else (first,
                                                                      last)
            block = extent if isolate else (first, last)
            if any(block[0] <= b + gap and a <= block[1] + gap
                   for a, b in blocks):
                continue
            if (lidar and headings is not None and _turn(
                    headings, arcs, first, last, turn_reach) > max_turn):
                continue
            free.append((first, last, extent, block))
        if not free:
            return None
        first, last, extent, block = free[int(rng.integers(len(free)))]
        placed[kind] = (first, last, extent)
        blocks.append(block)
    return placed


def plan_stretches(kinds: Sequence[str],
                   frame_arcs: np.ndarray,
                   length: Tuple[int, int],
                   rng: np.random.Generator,
                   gap: int = 10,
                   lead: int = 15,
                   reach: float = 80.0,
                   headings: Optional[np.ndarray] = None,
                   max_turn: float = np.deg2rad(30.0),
                   turn_reach: float = 30.0,
                   isolate: bool = False) -> List[Dict]:
    """Place one stretch of each kind in a sequence, at random, apart.

    A LiDAR stretch changes the scene ``reach`` metres before and after it
    (:func:`scene_layout`); the frames there, its ``extent``, approach the
    degenerate stretch (fewer and farther structures).

    Args:
        kinds (Sequence[str]): Kinds among :data:`LIDAR_KINDS` and
            :data:`CAMERA_KINDS`, one stretch each.
        frame_arcs (np.ndarray): Road arcs (N,) of the frames (m).
        length (tuple[int, int]): Range of the stretch lengths (frames).
        rng (np.random.Generator): Source of the placement.
        gap (int): Fewest normal frames between two stretches.
            Defaults to 10.
        lead (int): Normal frames at the start of the sequence.
            Defaults to 15.
        reach (float): Range (m) of the LiDAR. Defaults to 80.
        headings (np.ndarray, optional): Heading (N,) of every frame (rad):
            LiDAR stretches are then placed where the road turns by less
            than ``max_turn`` within ``turn_reach`` metres (a corner in
            sight constrains a registration). Defaults to None (anywhere).
        max_turn (float): See ``headings``. Defaults to 30 deg.
        turn_reach (float): See ``headings`` (m). Defaults to 30.
        isolate (bool): Keep every stretch out of the extents of the LiDAR
            ones (each failure alone), not only out of their frames.
            Defaults to False.

    Returns:
        list[dict]: The stretches in frame order (see the module); LiDAR
        ones with ``extent`` (first and last frame).

    Raises:
        ValueError: An unknown kind, or the sequence is too short for them.
    """
    unknown = set(kinds) - set(LIDAR_KINDS) - set(CAMERA_KINDS)
    if unknown:
        raise ValueError(f'unknown failure kinds {sorted(unknown)}, '
                         f'expected some of {LIDAR_KINDS + CAMERA_KINDS}')
    for _ in range(50):
        taken = _try_place(kinds, frame_arcs, length, rng, gap, lead, reach,
                           headings, max_turn, turn_reach, isolate)
        if taken is not None:
            break
    else:
        raise ValueError(
            f'{len(frame_arcs)} frames cannot hold stretches {list(kinds)} '
            f'of {length} frames, {gap} apart (LiDAR ones on straight roads'
            f'{", each alone" if isolate else ""})')
    stretches = []
    for kind in kinds:
        first, last, extent = taken[kind]
        lidar = kind in LIDAR_KINDS
        stretch = dict(
            kind=kind,
            sensor='lidar' if lidar else 'camera',
            first=first,
            last=last,
            arc=[float(frame_arcs[first]),
                 float(frame_arcs[last])],
            **_parameters(kind, rng))
        if lidar:
            stretch['extent'] = list(extent)
        stretches.append(stretch)
    return sorted(stretches, key=lambda s: s['first'])


def scene_layout(stretches: Sequence[Dict], reach: float) -> dict:
    """Arguments of :class:`~.synthetic_scene.SyntheticScene` that build the
    LiDAR-degenerate stretches: ``clear_arcs`` and ``walls``.

    Args:
        stretches (Sequence[dict]): Stretches of :func:`plan_stretches`.
        reach (float): Range (m) of the LiDAR: the scene is changed that
            far before and after a stretch.

    Returns:
        dict: ``clear_arcs`` and ``walls`` (lists of arc intervals).
    """
    clear, walls = [], []
    for s in stretches:
        if s['sensor'] != 'lidar':
            continue
        arcs = (s['arc'][0] - reach, s['arc'][1] + reach)
        clear.append(arcs)
        if s['kind'] == 'corridor':
            walls.append(arcs)
    return dict(clear_arcs=clear, walls=walls)


def camera_failure(stretches: Sequence[Dict], frame: int):
    """The camera stretch holding ``frame``, or None."""
    for s in stretches:
        if s['sensor'] == 'camera' and s['first'] <= frame <= s['last']:
            return s
    return None


def expose(rgb: np.ndarray, failure, noise: float,
           rng: np.random.Generator) -> np.ndarray:
    """8-bit image of a linear rendering, with the exposure of a camera
    stretch.

    Args:
        rgb (np.ndarray): Rendering (H, W, 3) in grey levels (0-255 at the
            normal exposure).
        failure (dict, optional): The camera stretch of the frame
            (``gain`` and ``noise`` for ``dark`` / ``overexposed``), or
            None.
        noise (float): Standard deviation (grey levels) of the sensor
            noise at the normal exposure.
        rng (np.random.Generator): Source of the noise.

    Returns:
        np.ndarray: The image (H, W, 3) uint8.
    """
    if failure is not None and 'gain' in failure:
        rgb = rgb * failure['gain']
        noise = failure['noise']
    rgb = rgb + noise * rng.standard_normal(rgb.shape)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
