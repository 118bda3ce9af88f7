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
import os
import os.path as osp
import shutil

import numpy as np

from ..datasets.fred_classes import FRED_CLASSES
from .background import make_background
from .event_frames import render_event_frames
from .manifest import plan_and_manifest
from .rgb_frames import render_rgb_frames
from .sample_presets import SPLIT_NAMES, ann_time, sample_settings
from .scene_plan import SequencePlan
from .stamps import SAMPLE_STAMP, write_stamp


def _render_sequence(seq: SequencePlan, cfg: dict, seed: int,
                     seq_dir: str) -> None:
    """Write the RGB and event frames of one sequence."""
    rng = np.random.default_rng([seed, 2, seq.index])
    background = make_background(rng, *cfg['img_size'])
    rgb_dir = osp.join(seq_dir, 'RGB')
    event_dir = osp.join(seq_dir, 'Event', 'Frames')
    os.makedirs(rgb_dir)
    os.makedirs(event_dir)
    render_rgb_frames(seq, cfg, rng, background, rgb_dir)
    render_event_frames(seq, cfg, rng, background, event_dir)


def _write_annotations(path: str, lines: dict, clipped: bool) -> None:
    """Write ``coordinates.txt`` (or the clipped ``coordinates_rgb.txt``)."""
    with open(path, 'w') as f:
        for k in sorted(lines):
            for box, box_rgb, label, track_id in lines[k]:
                x1, y1, x2, y2 = box_rgb if clipped else box
                f.write(f'{ann_time(k)}: {x1:.1f}, {y1:.1f}, {x2:.1f}, '
                        f'{y2:.1f}, {track_id}, {FRED_CLASSES[label]}\n')


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
    cfg = sample_settings(preset, overrides)
    manifest, sequences, all_lines = plan_and_manifest(cfg, preset, seed)
    _clear_root(root)
    # A stamp marked incomplete lets a re-run clean up an interrupted one.
    write_stamp(root, preset, seed, overrides,
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
    write_stamp(
        root, preset, seed, overrides, {
            seq_id:
            dict(
                rgb=len(entry['rgb_frames']), event=len(entry['event_frames']))
            for seq_id, entry in manifest['sequences'].items()
        }, True)
    return manifest
