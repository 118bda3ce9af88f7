"""The synthetic FRED sample, re-read with the released layout's rules."""
import functools
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from projects.fred_fusion.fred_fusion.datasets.fred_classes import FRED_CLASSES
from projects.fred_fusion.fred_fusion.testing import (PRESETS,
                                                      build_fred_manifest,
                                                      generate_fred_sample)

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
REAL_EVENT = osp.join(REPO, 'tests', 'data', 'fred', 'real_samples',
                      'night_ev.png')
CLI = osp.join(REPO, 'tools', 'misc', 'generate_fred_sample.py')

RGB_NAME = re.compile(r'^Video_(\d+)_(\d{2})_(\d{2})_(\d{2}\.\d{6})\.jpg$')
EVENT_NAME = re.compile(r'^Video_(\d+)_(\d+)\.png$')
NUM = r'(-?\d+(?:\.\d+)?)'
ANN_LINE = re.compile(rf'^(\d+\.\d{{6}}): {NUM}, {NUM}, {NUM}, {NUM}, '
                      r'(\d+), (.+)$')
SPLITS = ('train', 'test', 'challenging_train', 'challenging_test')
W, H = 160, 90


def read_rgb(seq_dir):
    """(name, seconds after the first frame) of the RGB frames by time."""
    frames = []
    for name in os.listdir(osp.join(seq_dir, 'RGB')):
        match = RGB_NAME.match(name)
        assert match, f'bad RGB file name {name}'
        assert match.group(1) == osp.basename(seq_dir)
        hours, minutes = int(match.group(2)), int(match.group(3))
        frames.append(
            (name, hours * 3600 + minutes * 60 + float(match.group(4))))
    frames.sort(key=lambda f: f[1])
    return [(name, wall - frames[0][1]) for name, wall in frames]


def read_events(seq_dir):
    """(name, seconds) of the event frames, by time."""
    frames = []
    for name in os.listdir(osp.join(seq_dir, 'Event', 'Frames')):
        match = EVENT_NAME.match(name)
        assert match, f'bad event file name {name}'
        assert match.group(1) == osp.basename(seq_dir)
        frames.append((name, int(match.group(2)) / 1e6))
    return sorted(frames, key=lambda f: f[1])


def read_coordinates(path):
    """Lines of a coordinates file as (time, box, track id, class)."""
    lines = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            match = ANN_LINE.match(line.rstrip('\n'))
            assert match, f'{path}:{number}: bad line {line!r}'
            assert match.group(7) in FRED_CLASSES, f'{path}:{number}'
            box = [float(match.group(i)) for i in range(2, 6)]
            lines.append((float(match.group(1)), box, int(match.group(6)),
                          match.group(7)))
    return lines


def read_split(root, name):
    with open(osp.join(root, 'dataset_splits', f'{name}_split.txt')) as f:
        lines = f.read().splitlines()
    assert all(re.fullmatch(r'\d+/', line) for line in lines), lines
    return [line[:-1] for line in lines]


@functools.lru_cache()
def event_palette():
    """The three colours (BGR) of the real event frame, most frequent
    first."""
    image = cv2.imread(REAL_EVENT).reshape(-1, 3).astype(np.int64)
    codes, counts = np.unique(
        (image[:, 0] << 16) | (image[:, 1] << 8) | image[:, 2],
        return_counts=True)
    assert len(codes) == 3
    codes = codes[np.argsort(-counts)]
    return np.stack([codes >> 16, (codes >> 8) & 255, codes & 255],
                    axis=1).astype(np.uint8)


def gray(path):
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2GRAY).astype(float)


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('fred_tiny'))
    return root, generate_fred_sample(root, 'tiny', seed=0)


def all_sequences(root):
    ids = set(read_split(root, 'train')) | set(read_split(root, 'test'))
    return sorted(ids, key=int)


@pytest.mark.parametrize('preset', sorted(PRESETS))
def test_presets_have_the_real_16_9_geometry(preset):
    """Real FRED frames are 1280x720: every preset is 16:9, so that the
    letterboxing of real frames is the one a model was trained with."""
    w, h = build_fred_manifest(preset)['img_size']
    assert w * 9 == h * 16, (w, h)


def test_splits(sample):
    root, manifest = sample
    seqs = sorted((d for d in os.listdir(root)
                   if not d.startswith('.') and d != 'dataset_splits'),
                  key=int)
    splits = {name: read_split(root, name) for name in SPLITS}
    assert len(splits['train']) == 2 and len(splits['test']) == 2
    for train, test in (('train', 'test'), ('challenging_train',
                                            'challenging_test')):
        assert not set(splits[train]) & set(splits[test])
        assert sorted(splits[train] + splits[test], key=int) == seqs
    assert splits == manifest['splits']


def test_file_names_and_times(sample):
    root, _ = sample
    for seq in all_sequences(root):
        rgb = read_rgb(osp.join(root, seq))
        events = read_events(osp.join(root, seq))
        rgb_times = np.array([t for _, t in rgb])
        event_times = np.array([t for _, t in events])
        steps = np.diff(rgb_times)
        assert steps.min() > 1 / 30 - 1 / 120
        assert steps.max() < 1 / 30 + 1 / 120
        assert np.all(np.diff(event_times) > 0)
        assert len(events) > len(rgb)
        # Trimmed start: the first RGB frame has no event frame near it.
        assert event_times[0] > 1 / 30
        assert event_times[-1] > rgb_times[-1]


def test_images(sample):
    root, _ = sample
    palette = event_palette()
    for seq in all_sequences(root):
        seq_dir = osp.join(root, seq)
        for name, _ in read_rgb(seq_dir):
            image = cv2.imread(osp.join(seq_dir, 'RGB', name))
            assert image is not None and image.shape == (H, W, 3)
        for name, _ in read_events(seq_dir):
            image = cv2.imread(osp.join(seq_dir, 'Event', 'Frames', name))
            assert image is not None and image.shape == (H, W, 3)
            pixels = image.reshape(-1, 1, 3)
            known = (pixels == palette[None]).all(-1).any(-1)
            assert known.mean() > 0.999
            # Mostly background, as the static camera sees it.
            assert (pixels[:, 0] == palette[0]).all(-1).mean() > 0.8


def test_annotations(sample):
    root, _ = sample
    shared_times = clipped = 0
    for seq in all_sequences(root):
        full = read_coordinates(osp.join(root, seq, 'coordinates.txt'))
        rgb = read_coordinates(osp.join(root, seq, 'coordinates_rgb.txt'))
        assert full and len(full) == len(rgb)
        times = [t for t, *_ in full]
        assert times == sorted(times)
        shared_times += len(times) - len(set(times))
        for (t, box, tid, cls), (t_rgb, box_rgb, tid_rgb,
                                 cls_rgb) in zip(full, rgb):
            assert (t, tid, cls) == (t_rgb, tid_rgb, cls_rgb)
            k = round(t / 0.033333)
            assert abs(t - k * 0.033333) < 1e-6
            assert box[0] < box[2] and box[1] < box[3]
            x1, y1, x2, y2 = box_rgb
            assert 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H
            expected = [
                min(max(box[0], 0), W),
                min(max(box[1], 0), H),
                min(max(box[2], 0), W),
                min(max(box[3], 0), H)
            ]
            assert box_rgb == expected
            clipped += box_rgb != box
    assert shared_times > 0, 'no time with several drones'
    assert clipped > 0, 'no drone crossing the image border'


def test_manifest_describes_files(sample):
    root, manifest = sample
    assert manifest['classes'] == list(FRED_CLASSES)
    assert manifest['img_size'] == [W, H]
    unpaired_inside = 0
    for seq, entry in manifest['sequences'].items():
        seq_dir = osp.join(root, seq)
        rgb = read_rgb(seq_dir)
        events = read_events(seq_dir)
        assert [f['file'] for f in entry['rgb_frames']
                ] == [f'RGB/{name}' for name, _ in rgb]
        assert [f['file'] for f in entry['event_frames']
                ] == [f'Event/Frames/{name}' for name, _ in events]
        full = read_coordinates(osp.join(seq_dir, 'coordinates.txt'))
        rgb_lines = read_coordinates(osp.join(seq_dir, 'coordinates_rgb.txt'))
        assert entry['num_annotation_lines'] == len(full)
        event_times = np.array([t for _, t in events])
        for i, ((_, time), frame) in enumerate(zip(rgb, entry['rgb_frames'])):
            assert frame['time'] == pytest.approx(time, abs=1e-6)
            nearest = int(np.argmin(np.abs(event_times - time)))
            assert frame['event_file'].endswith(events[nearest][0])
            assert frame['time_diff'] == pytest.approx(
                event_times[nearest] - time, abs=1e-6)
            near = [line for line in full if abs(line[0] - time) < 1 / 60]
            if not near:
                assert frame['ann_time'] is None and not frame['boxes']
                continue
            assert {line[0] for line in near} == {frame['ann_time']}
            assert frame['boxes'] == [line[1] for line in near]
            assert frame['boxes_rgb'] == [
                line[1] for line in rgb_lines if line[0] == frame['ann_time']
            ]
            assert frame['track_ids'] == [line[2] for line in near]
            assert [FRED_CLASSES[i]
                    for i in frame['labels']] == [line[3] for line in near]
            if abs(frame['time_diff']) > 0.05 and 2 < i < len(rgb) - 2:
                unpaired_inside += 1
    assert unpaired_inside > 0, 'no event dropout in the middle'
    # Every class occurs somewhere.
    labels = {
        label
        for entry in manifest['sequences'].values()
        for frame in entry['rgb_frames']
        for label in frame['labels']
    }
    assert labels == set(range(5))


def drone_stats(root, seq, entry):
    """RGB contrast and event density at the fully visible drones."""
    contrasts, densities = [], []
    background = event_palette()[0]
    for frame in entry['rgb_frames']:
        if abs(frame['time_diff']) > 0.02:
            continue
        image = gray(osp.join(root, seq, frame['file']))
        events = cv2.imread(osp.join(root, seq, frame['event_file']))
        for box, box_rgb in zip(frame['boxes'], frame['boxes_rgb']):
            if box != box_rgb:
                continue
            x1, y1, x2, y2 = (int(v) for v in box)
            X1, Y1 = max(x1 - 4, 0), max(y1 - 4, 0)
            X2, Y2 = min(x2 + 4, W), min(y2 + 4, H)
            ring = image[Y1:Y2, X1:X2].copy()
            ring[y1 - Y1:y2 - Y1, x1 - X1:x2 - X1] = np.nan
            inside = image[y1:y2, x1:x2]
            contrasts.append(
                np.percentile(np.abs(inside - np.nanmedian(ring)), 95))
            fired = (events[Y1:Y2, X1:X2] != background).any(-1)
            densities.append(fired.mean())
    assert contrasts, f'sequence {seq} has no fully visible drone'
    return np.median(contrasts), np.mean(densities)


def test_conditions(sample):
    root, manifest = sample
    stats = {
        entry['condition']: drone_stats(root, seq, entry)
        for seq, entry in manifest['sequences'].items()
    }
    assert set(stats) == {'normal', 'dark', 'hover'}
    # Night: the drone barely stands out in RGB but fires events.
    assert stats['dark'][0] < 8 and stats['normal'][0] > 30
    assert stats['dark'][1] > 0.05
    # Hovering: clear in RGB, (almost) no events.
    assert stats['hover'][0] > 10
    assert stats['hover'][1] < 0.2 * stats['normal'][1]


def coordinates_bytes(root):
    out = b''
    for seq in all_sequences(root):
        with open(osp.join(root, seq, 'coordinates.txt'), 'rb') as f:
            out += f.read()
    return out


def test_determinism_and_rewrite(sample, tmp_path):
    root, manifest = sample
    again = str(tmp_path / 'again')
    assert generate_fred_sample(again, 'tiny', seed=0) == manifest
    assert coordinates_bytes(again) == coordinates_bytes(root)
    frame = manifest['sequences']['0']['rgb_frames'][5]['file']
    with open(osp.join(root, '0', frame),
              'rb') as a, open(osp.join(again, '0', frame), 'rb') as b:
        assert a.read() == b.read()
    assert build_fred_manifest('tiny', seed=0) == manifest
    # A former sample is replaced, without files of the old one left.
    other = generate_fred_sample(again, 'tiny', seed=1)
    assert other != manifest
    assert coordinates_bytes(again) != coordinates_bytes(root)
    assert [name for name, _ in read_rgb(osp.join(again, '0'))] == [
        osp.basename(f['file']) for f in other['sequences']['0']['rgb_frames']
    ]


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match='huge'):
        build_fred_manifest('huge')
    with pytest.raises(ValueError, match='num_frame'):
        build_fred_manifest('tiny', num_frame=10)
    with pytest.raises(ValueError, match='img_size'):
        build_fred_manifest('tiny', img_size=(16, 16))
    (tmp_path / 'mine.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match=str(tmp_path)):
        generate_fred_sample(str(tmp_path), 'tiny')
    assert (tmp_path / 'mine.txt').read_text() == 'keep me'


def test_cli_is_idempotent(tmp_path):
    root = str(tmp_path / 'sample')
    manifest_path = str(tmp_path / 'manifest.json')
    cmd = [
        sys.executable, CLI, root, '--preset', 'tiny', '--seed', '2',
        '--num-sequences', '2', '--manifest', manifest_path
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    first = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert 'Wrote' in first.stdout
    with open(manifest_path) as f:
        manifest = json.load(f)
    assert manifest == json.loads(
        json.dumps(build_fred_manifest('tiny', seed=2, num_sequences=2)))
    assert sorted(manifest['sequences']) == ['0', '1']
    stamp = osp.join(root, '.sample_stamp.json')
    mtime = os.stat(stamp).st_mtime_ns
    second = subprocess.run(
        cmd[:-2], cwd=REPO, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert 'nothing to do' in second.stdout
    assert os.stat(stamp).st_mtime_ns == mtime


@pytest.mark.parametrize('num_sequences,num_test', [(12, 4), (48, 12), (40, 8),
                                                    (20, 10)])
def test_every_split_holds_every_class(num_sequences, num_test):
    """Train and test both see all five classes, whatever the split sizes
    (a split whose sequences recur with the period of the class cycle must
    not get a single class)."""
    manifest = build_fred_manifest(
        'demo',
        1,
        num_sequences=num_sequences,
        num_test=num_test,
        num_frames=8)
    for split in ('train', 'test'):
        labels = set()
        for seq in manifest['splits'][split]:
            for frame in manifest['sequences'][seq]['rgb_frames']:
                labels.update(frame['labels'])
        assert labels == set(range(len(FRED_CLASSES))), (split, labels)


@pytest.mark.parametrize('num_sequences,num_test', [(12, 4), (48, 12)])
def test_classes_not_tied_to_conditions(num_sequences, num_test):
    """Every class occurs in the normal scenes of the training split (where
    both modalities show it), and the dark / hovering drones of a split do
    not share one class."""
    manifest = build_fred_manifest(
        'demo',
        1,
        num_sequences=num_sequences,
        num_test=num_test,
        num_frames=8)

    def classes(split, condition):
        return {
            label
            for seq in manifest['splits'][split]
            if manifest['sequences'][seq]['condition'] == condition
            for frame in manifest['sequences'][seq]['rgb_frames']
            for label in frame['labels']
        }

    assert classes('train', 'normal') == set(range(len(FRED_CLASSES)))
    for split in ('train', 'test'):
        for condition in ('dark', 'hover'):
            num = sum(manifest['sequences'][seq]['condition'] == condition
                      for seq in manifest['splits'][split])
            if num >= 2:  # one drone each
                assert len(classes(split, condition)) >= 2, (split, condition)
