import json
import os
import os.path as osp
import re

import pytest

from projects.fred_fusion.fred_fusion.converters import (convert_split,
                                                         read_split_file)
from projects.fred_fusion.fred_fusion.datasets import FREDDataError
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sample') / 'fred_sample')
    manifest = generate_fred_sample(root, preset='tiny', seed=0)
    return root, manifest


def test_converter_matches_generated_sample(sample, run_tool, fred_layout):
    root, manifest = sample
    rc, stdout, stderr = run_tool(fred_layout.converter, root, '--workers',
                                  '2')
    assert rc == 0, stderr
    for split in ('train', 'test'):
        with open(osp.join(root, 'annotations',
                           f'fred_fusion_{split}.json')) as f:
            ann = json.load(f)
        assert ann['metainfo']['classes'] == manifest['classes']
        assert ann['metainfo']['fusion_threshold'] == 0.1
        expected = [(seq, frame) for seq in manifest['splits'][split]
                    for frame in manifest['sequences'][seq]['rgb_frames']]
        assert len(ann['data_list']) == len(expected) > 0
        for i, (entry, (seq,
                        frame)) in enumerate(zip(ann['data_list'], expected)):
            assert entry['img_id'] == i
            assert entry['img_path'] == osp.join(seq, frame['file'])
            assert entry['event_path'] == osp.join(seq, frame['event_file'])
            assert entry['rgb_time'] == pytest.approx(frame['time'], abs=1e-9)
            assert entry['time_diff'] == pytest.approx(
                frame['time_diff'], abs=1e-9)
            assert entry['paired'] == (abs(frame['time_diff']) <= 0.1)
            assert entry['ann_time'] == frame['ann_time']
            assert (entry['width'],
                    entry['height']) == tuple(manifest['img_size'])
            # coordinates.txt boxes are clipped to the frame on reading
            assert [i['bbox']
                    for i in entry['instances']] == frame['boxes_rgb']
            assert [i['bbox_label']
                    for i in entry['instances']] == frame['labels']
            assert [i['track_id']
                    for i in entry['instances']] == frame['track_ids']
    # the seed-style statistics are printed and saved
    assert 'Fusion: Dual Rate: ' in stdout
    with open(osp.join(root, 'annotations',
                       'fred_fusion_train_stats.json')) as f:
        stats = json.load(f)
    frames = [
        f for seq in manifest['splits']['train']
        for f in manifest['sequences'][seq]['rgb_frames']
    ]
    paired = sum(abs(f['time_diff']) <= 0.1 for f in frames)
    mean_ms = 1e3 * sum(abs(f['time_diff']) for f in frames) / len(frames)
    line = (f'Fusion: Dual Rate: {paired}/{len(frames)} '
            f'({100 * paired / len(frames):.1f}%), '
            f'Avg Time Diff: {mean_ms:.2f}ms')
    assert stats['fusion'] == line
    assert line in stdout
    assert stats['frames_without_boxes'] == sum(not f['boxes'] for f in frames)


def test_challenging_drone_mode_and_rgb_coords(sample, tmp_path, run_tool,
                                               fred_layout):
    root, manifest = sample
    out = str(tmp_path / 'ann')
    rc, _, stderr = run_tool(fred_layout.converter, root, '--out-dir', out,
                             '--split-set', 'challenging', '--classes',
                             'drone', '--coords', 'coordinates_rgb.txt',
                             '--fusion-threshold', '0.02', '--workers', '1')
    assert rc == 0, stderr
    with open(osp.join(out, 'fred_fusion_challenging_test.json')) as f:
        ann = json.load(f)
    assert ann['metainfo']['classes'] == ['drone']
    assert ann['metainfo']['ann_file'] == 'coordinates_rgb.txt'
    labels = {
        i['bbox_label']
        for e in ann['data_list']
        for i in e['instances']
    }
    assert labels == {0}
    assert all(e['paired'] == (abs(e['time_diff']) <= 0.02)
               for e in ann['data_list'])


def test_midnight_wrap_and_tie_goes_to_earlier(tmp_path, fred_layout):
    root = str(tmp_path)
    times = [0.0, 0.02, 0.04]
    # starts 23:59:59.99 and crosses midnight; events at 0.01 s steps, the
    # RGB frame at 0.02 s is equally near to 0.015 and 0.025
    fred_layout.write_sequence(
        root,
        '5',
        times, [0, 15000, 25000, 40000],
        start_wall=24 * 3600 - 0.01)
    stats = convert_split(root, 'train', ['5'], str(tmp_path / 'a.json'))
    with open(tmp_path / 'a.json') as f:
        entries = json.load(f)['data_list']
    assert [e['rgb_time'] for e in entries] == times
    assert entries[0]['img_path'].endswith('Video_5_23_59_59.990000.jpg')
    assert entries[1]['event_path'].endswith('Video_5_15000.png')
    assert entries[1]['time_diff'] == pytest.approx(-0.005)
    assert stats['frames'] == 3 and stats['paired'] == 3


def test_split_file_errors_name_file_and_line(tmp_path, fred_data):
    assert read_split_file(
        osp.join(fred_data, 'dataset_splits',
                 'train_split.txt'))[:3] == ['0', '1', '2']
    path = str(tmp_path / 'train_split.txt')
    with open(path, 'w') as f:
        f.write('1/\n2/x/\n')
    with pytest.raises(FREDDataError, match=f'{path}:2: '):
        read_split_file(path)
    with pytest.raises(FREDDataError, match='missing.txt: split file does'):
        read_split_file(str(tmp_path / 'missing.txt'))


def test_missing_sequence_refused_then_skipped(tmp_path, fred_layout):
    root = str(tmp_path)
    fred_layout.write_sequence(root, '1', [0.0, 1 / 30], [0, 33333])
    fred_layout.write_splits(root, dict(train=['1', '9']))
    out = str(tmp_path / 'ann.json')
    with pytest.raises(FREDDataError, match='9: sequence folder'):
        convert_split(root, 'train', ['1', '9'], out)
    assert not os.path.exists(out)
    stats = convert_split(root, 'train', ['1', '9'], out, skip_bad=True)
    assert stats['skipped'] == {'missing_sequence': 1, 'sequence': 1}
    assert stats['frames'] == 2


def written(root):
    """Files in the annotation folder, also partial ones."""
    folder = osp.join(root, 'annotations')
    return sorted(os.listdir(folder)) if osp.isdir(folder) else []


@pytest.fixture
def two_split_root(tmp_path, fred_layout):
    """Sequence '1' in the train split, '2' in the test split."""
    root = str(tmp_path / 'fred')
    times = [i / 30 for i in range(4)]
    events = [round(t * 1e6) for t in times]
    files = fred_layout.write_sequence(root, '1', times, events)
    fred_layout.write_sequence(root, '2', times, events, seed=1)
    fred_layout.write_splits(root, dict(train=['1'], test=['2']))
    return root, files


def test_every_split_checked_before_the_run_fails(two_split_root, run_tool,
                                                  fred_layout):
    """Problems of the train and the test split are reported together,
    counted per kind, and neither split is written."""
    root, files = two_split_root
    rgb = osp.join(root, '1', 'RGB', files['rgb'][2])
    with open(rgb, 'r+b') as f:
        f.truncate(100)
    coords = osp.join(root, '2', 'coordinates.txt')
    with open(coords, 'a') as f:
        f.write('0.1: 10, 8, 30\n0.2: 10, 8, 30\n')
    rc, out, err = run_tool(fred_layout.converter, root, '--workers', '1')
    assert rc == 1
    assert ('FRED data: 3 error(s) (malformed_line: 2, unreadable_frame: 1)'
            in err)
    assert f'{rgb}: truncated or corrupt JPEG header' in err
    assert f'{coords}:5: expected "time: x1, y1, x2, y2' in err
    assert f'{coords}:6: ' in err
    assert 'Nothing was written.' in err and '--skip-bad' in err
    assert written(root) == []
    # the integrity check reports the same problems at once
    rc, out, _ = run_tool(fred_layout.checker, root, '--workers', '1')
    assert rc == 1 and '3 problem(s) found' in out
    assert f'{rgb}: ' in out and f'{coords}:6: ' in out


def test_empty_split_and_missing_root_are_named(two_split_root, run_tool,
                                                fred_layout):
    root, _ = two_split_root
    split = osp.join(root, 'dataset_splits', 'test_split.txt')
    with open(split, 'w') as f:
        f.write('\n')
    for tool in (fred_layout.converter, fred_layout.checker):
        rc, out, err = run_tool(tool, root, '--workers', '1')
        assert rc == 1
        assert (f'{split}: split file lists no sequence [empty_split]'
                in out + err)
    assert written(root) == []
    missing = osp.join(root, 'no_such_root')
    for tool in (fred_layout.converter, fred_layout.checker):
        rc, out, err = run_tool(tool, missing, '--workers', '1')
        assert rc == 1
        assert (f'{missing}: data root does not exist or is not a folder '
                '[missing_root]' in out + err)
        assert 'split file' not in out + err


def test_classless_file_needs_drone_classes(tmp_path, run_tool, fred_layout):
    """A file of the older release (no class column) in five-class mode:
    the error says to use --classes drone; --skip-bad does not produce a
    split without boxes but fails; --classes drone converts it."""
    root = str(tmp_path / 'fred')
    times = [i / 30 for i in range(4)]
    fred_layout.write_sequence(
        root,
        '1',
        times, [round(t * 1e6) for t in times],
        ann_lines=[f'{t:.6f}: 10.0, 8.0, 30.0, 24.0, 2.0' for t in times])
    fred_layout.write_splits(root, dict(train=['1'], test=['1']))
    coords = osp.join(root, '1', 'coordinates.txt')
    rc, _, err = run_tool(fred_layout.converter, root, '--workers', '1')
    assert rc == 1
    assert f'{coords}:1: line has no class' in err
    assert 'rerun with --classes drone' in err
    assert '--skip-bad' not in err

    rc, _, err = run_tool(fred_layout.converter, root, '--workers', '1',
                          '--skip-bad')
    assert rc == 1
    split = osp.join(root, 'dataset_splits', 'train_split.txt')
    assert (f"{split}: split 'train' would hold no box: none of its 0 "
            'frames' in err)
    assert '[split_without_boxes]' in err
    assert 'COUNT frames dropped (missing_class): 8' in err
    assert written(root) == []

    rc, out, err = run_tool(fred_layout.converter, root, '--workers', '1',
                            '--classes', 'drone')
    assert rc == 0, err
    with open(osp.join(root, 'annotations', 'fred_fusion_train.json')) as f:
        entries = json.load(f)['data_list']
    assert [[i['track_id'] for i in e['instances']]
            for e in entries] == [[2]] * 4


def test_skip_bad_drops_the_frames_of_refused_lines(tmp_path, fred_layout):
    """A refused line's frame is left out, not kept as a frame without
    drones; a line without a readable time takes the frames between its
    neighbours with it."""
    root = str(tmp_path / 'fred')
    times = [i / 30 for i in range(8)]
    lines = [f'{t:.6f}: 10.0, 8.0, 30.0, 24.0, 1, DJI Mini 2' for t in times]
    lines[2] = '0.066667: 100.0, 8.0, 120.0, 24.0, 1, DJI Mini 2'  # outside
    lines[5] = 'garbled line'  # between 0.133333 and 0.2
    fred_layout.write_sequence(
        root, '1', times, [round(t * 1e6) for t in times], ann_lines=lines)
    out = str(tmp_path / 'ann.json')
    with pytest.raises(FREDDataError, match='2 error'):
        convert_split(root, 'train', ['1'], out)
    stats = convert_split(root, 'train', ['1'], out, skip_bad=True)
    with open(out) as f:
        entries = json.load(f)['data_list']
    kept = [round(e['rgb_time'] * 30) for e in entries]
    assert kept == [0, 1, 3, 7]
    assert all(len(e['instances']) == 1 for e in entries)
    assert stats['skipped'] == {
        'box_outside_frame': 1,
        'malformed_line': 1,
        'frames dropped (box_outside_frame)': 1,
        'frames dropped (malformed_line)': 3
    }


def test_converter_shows_progress_per_sequence(sample, tmp_path, run_tool,
                                               fred_layout):
    root, manifest = sample
    rc, out, _ = run_tool(fred_layout.converter, root, '--out-dir',
                          str(tmp_path), '--workers', '1')
    assert rc == 0
    for split in ('train', 'test'):
        num = len(manifest['splits'][split])
        assert f'[{split}] {num} sequences' in out
        assert re.search(
            rf'\] {num}/{num}, [\d.]+ task/s, elapsed: \d+s, ETA: +0s', out)
