import json
import os
import os.path as osp

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
