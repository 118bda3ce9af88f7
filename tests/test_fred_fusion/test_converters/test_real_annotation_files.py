"""Whole real annotation files of the older FRED release, converted.

Sequences 60 (3655 lines, two drones with track ids) and 230 (3673 lines,
no id, no class) get frames in the FRED layout at the real times: RGB
frames at 30 fps with a few milliseconds of jitter and wall-clock names,
event frames on the 33333 us grid of the annotation times. The frames of a
sequence are hard links of one 1280x720 JPEG / PNG, so the 14,000 files
take seconds to write; the converter decodes each of them (about 12 ms a
PNG of that size), so each sequence is in one split only (60 in train, 230
in test) and is scanned once a run.
"""
import json
import math
import os
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
import pytest

from projects.fred_fusion.fred_fusion.testing import rgb_file_name

#: Annotation grid step (s) and event frame step (us) of the release.
ANN_STEP = 0.033333
EVENT_STEP_US = 33333
SEQUENCES = {
    '60': 'real_seq60_coordinates.txt',
    '230': 'real_seq230_coordinates.txt'
}
#: The split of each sequence.
SPLITS = {'train': '60', 'test': '230'}


def read_lines(path):
    """``{time text: [(box, track id), ...]}`` of a coordinates file."""
    lines = defaultdict(list)
    with open(path) as f:
        for text in f.read().splitlines():
            head, tail = text.split(':')
            fields = [float(v) for v in tail.split(',')]
            track_id = int(fields[4]) if len(fields) > 4 else -1
            lines[head].append((fields[:4], track_id))
    return lines


def write_sequence(root, seq, coords, template, rng):
    """Frames around the real annotation file ``coords``; returns the RGB
    times (s) and names."""
    seq_dir = osp.join(root, seq)
    rgb_dir = osp.join(seq_dir, 'RGB')
    event_dir = osp.join(seq_dir, 'Event', 'Frames')
    os.makedirs(rgb_dir)
    os.makedirs(event_dir)
    with open(coords) as f:
        text = f.read()
    with open(osp.join(seq_dir, 'coordinates.txt'), 'w') as f:
        f.write(text)
    last = max(float(line.split(':')[0]) for line in text.splitlines())
    num_rgb = int(math.floor(last * 30)) + 3
    start_us = (16 * 3600 + 3 * 60 + 3) * 10**6 + 363563
    jitter = rng.integers(-4000, 4001, num_rgb)
    jitter[0] = 0
    times, names = [], []
    for i in range(num_rgb):
        rel_us = int(round(i * 1e6 / 30)) + int(jitter[i])
        name = rgb_file_name(seq, start_us + rel_us)
        os.link(template['jpg'], osp.join(rgb_dir, name))
        times.append(rel_us / 1e6)
        names.append(name)
    for k in range(3, num_rgb + 2):  # trimmed start, as released
        os.link(template['png'],
                osp.join(event_dir, f'Video_{seq}_{k * EVENT_STEP_US}.png'))
    return times, names


@pytest.fixture(scope='module')
def real_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('real_ann') / 'fred')
    os.makedirs(osp.join(root, 'dataset_splits'))
    template = dict(
        jpg=osp.join(root, 'frame.jpg'), png=osp.join(root, 'frame.png'))
    frame = np.full((720, 1280, 3), 40, np.uint8)
    cv2.imwrite(template['jpg'], frame)
    cv2.imwrite(template['png'], frame)
    rng = np.random.default_rng(0)
    frames = {}
    for seq, name in SEQUENCES.items():
        coords = osp.join(
            osp.dirname(__file__), '..', '..', 'data', 'fred',
            'annotation_samples', name)
        frames[seq] = write_sequence(root, seq, coords, template, rng)
    for split, seq in SPLITS.items():
        with open(osp.join(root, 'dataset_splits', f'{split}_split.txt'),
                  'w') as f:
            f.write(f'{seq}/\n')
    return root, frames


def test_every_real_box_lands_on_the_frame_of_its_time(real_root, run_tool,
                                                       fred_layout):
    root, frames = real_root
    rc, out, err = run_tool(fred_layout.converter, root, '--classes', 'drone',
                            '--workers', '1')
    assert rc == 0, err
    assert 'skipped: none' in out
    entries = []
    for split in SPLITS:
        with open(osp.join(root, 'annotations',
                           f'fred_fusion_{split}.json')) as f:
            entries += json.load(f)['data_list']
    for seq, (times, names) in frames.items():
        lines = read_lines(osp.join(root, seq, 'coordinates.txt'))
        seq_entries = [e for e in entries if e['seq'] == seq]
        # one entry per RGB frame, in time order, with the real names
        assert [e['img_path'] for e in seq_entries
                ] == [osp.join(seq, 'RGB', name) for name in names]
        assert [e['rgb_time'] for e in seq_entries] == pytest.approx(
            times, abs=1e-9)
        # the file's times are multiples of the grid step
        by_step = {round(float(t) / ANN_STEP): t for t in lines}
        assert all(
            abs(float(t) - k * ANN_STEP) < 1e-6 for k, t in by_step.items())
        landed = {}
        for entry, time in zip(seq_entries, times):
            k = round(time / ANN_STEP)
            if k not in by_step:
                assert entry['instances'] == [] and entry['ann_time'] is None
                continue
            key = by_step[k]
            boxes = lines[key]
            landed[key] = entry
            assert entry['ann_time'] == pytest.approx(k * ANN_STEP, abs=1e-9)
            assert abs(entry['ann_time'] - time) <= 1 / 60
            assert [i['bbox']
                    for i in entry['instances']] == [box for box, _ in boxes]
            assert [i['track_id'] for i in entry['instances']
                    ] == [track_id for _, track_id in boxes]
            assert {i['bbox_label'] for i in entry['instances']} == {0}
        # every annotation time of the file has its frame: every box landed
        assert len(landed) == len(lines)
        assert sum(len(e['instances']) for e in seq_entries) == sum(
            len(v) for v in lines.values())
    num_ids = {
        seq: {
            i['track_id']
            for e in entries if e['seq'] == seq for i in e['instances']
        }
        for seq in frames
    }
    assert num_ids == {'60': {1, 2}, '230': {-1}}


def test_real_classless_file_in_five_class_mode(real_root, run_tool,
                                                fred_layout, tmp_path):
    root, _ = real_root
    out_dir = str(tmp_path / 'ann')
    rc, _, err = run_tool(fred_layout.converter, root, '--out-dir', out_dir,
                          '--workers', '1')
    assert rc == 1
    coords = osp.join(root, '60', 'coordinates.txt')
    assert f'{coords}:1: line has no class' in err
    # 3655 + 3673 lines, each in its split; both splits then lack boxes
    assert ('FRED data: 7330 error(s) (missing_class: 7328, '
            'split_without_boxes: 2)') in err
    assert 'rerun with --classes drone' in err
    assert not osp.exists(osp.join(out_dir, 'fred_fusion_train.json'))
