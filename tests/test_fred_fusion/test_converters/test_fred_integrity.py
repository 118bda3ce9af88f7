import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from projects.fred_fusion.fred_fusion.converters import (convert_split,
                                                         probe_image)
from projects.fred_fusion.fred_fusion.datasets import FREDDataError

TIMES = [i / 30 for i in range(4)]
EVENTS = [round(t * 1e6) for t in TIMES]


@pytest.fixture
def root(tmp_path, fred_layout):
    root = str(tmp_path / 'fred')
    files = fred_layout.write_sequence(root, '1', TIMES, EVENTS)
    fred_layout.write_sequence(root, '2', TIMES, EVENTS, seed=1)
    fred_layout.write_splits(root, dict(train=['1', '2'], test=['2']))
    return root, files


def rgb(root, files, i=1):
    return osp.join(root, '1', 'RGB', files['rgb'][i])


def event(root, files, i=1):
    return osp.join(root, '1', 'Event', 'Frames', files['event'][i])


def truncate(path, keep=0.5):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def converted(root, **kwargs):
    return convert_split(root, 'train', ['1', '2'], None, **kwargs)


def test_probe_reads_sizes_of_real_frames(fred_data):
    real = osp.join(fred_data, 'real_samples')
    assert probe_image(osp.join(real, 'night_rgb.jpg')) == ((1280, 720), None)
    assert probe_image(osp.join(real, 'night_ev.png')) == ((1280, 720), None)


def break_truncated_rgb(root, files):
    truncate(rgb(root, files))
    return 'unreadable_frame', rgb(root, files), 'truncated'


def break_empty_event(root, files):
    open(event(root, files), 'wb').close()
    return 'unreadable_frame', event(root, files), 'empty'


def break_text_as_jpg(root, files):
    with open(rgb(root, files), 'w') as f:
        f.write('not an image')
    return 'unreadable_frame', rgb(root, files), 'not a JPEG'


def break_size_mismatch(root, files):
    cv2.imwrite(event(root, files), np.zeros((24, 32, 3), np.uint8))
    return 'size_mismatch', rgb(root, files), 'is 32x24'


def break_duplicate_event_time(root, files):
    dup = osp.join(root, '1', 'Event', 'Frames',
                   'Video_1_0' + files['event'][1].split('_')[-1])
    shutil.copy(event(root, files), dup)
    # sorted by name, the zero-padded copy comes first
    return ('duplicate_timestamp', event(root, files),
            f'repeats that of {osp.basename(dup)}')


def break_duplicate_rgb_time(root, files):
    name = files['rgb'][1].replace('.jpg', '0.jpg')
    dup = osp.join(root, '1', 'RGB', name)
    shutil.copy(rgb(root, files), dup)
    return ('duplicate_timestamp', dup, f'repeats that of {files["rgb"][1]}')


def break_bad_name(root, files):
    path = osp.join(root, '1', 'RGB', 'frame_0001.jpg')
    shutil.copy(rgb(root, files), path)
    return 'bad_file_name', path, 'RGB frame name is not'


def break_annotation_line(root, files):
    path = osp.join(root, '1', 'coordinates.txt')
    with open(path, 'a') as f:
        f.write('0.1: 10, x, 20, 20, 1, DJI Mini 2\n')
    return 'malformed_line', f'{path}:5', 'finite numbers'


def break_no_event_folder(root, files):
    shutil.rmtree(osp.join(root, '1', 'Event'))
    return ('missing_event_folder', osp.join(root, '1', 'Event',
                                             'Frames'), 'no event folder')


def break_no_rgb(root, files):
    shutil.rmtree(osp.join(root, '1', 'RGB'))
    os.makedirs(osp.join(root, '1', 'RGB'))
    return 'no_rgb_frames', osp.join(root, '1', 'RGB'), 'is empty'


def break_no_annotations(root, files):
    os.remove(osp.join(root, '1', 'coordinates.txt'))
    return ('missing_annotation', osp.join(root, '1', 'coordinates.txt'),
            'does not exist')


BREAKERS = [
    break_truncated_rgb, break_empty_event, break_text_as_jpg,
    break_size_mismatch, break_duplicate_event_time, break_duplicate_rgb_time,
    break_bad_name, break_annotation_line, break_no_event_folder, break_no_rgb,
    break_no_annotations
]
SEQUENCE_LEVEL = {
    'missing_event_folder', 'no_rgb_frames', 'missing_annotation'
}


@pytest.mark.parametrize('breaker', BREAKERS)
def test_bad_input_refused_or_skipped_and_counted(root, breaker, run_tool,
                                                  fred_layout):
    root, files = root
    reason, where, what = breaker(root, files)
    with pytest.raises(FREDDataError) as e:
        converted(root)
    message = str(e.value)
    assert f'{where}: ' in message and what in message
    assert f'[{reason}]' in message

    stats = converted(root, skip_bad=True)
    assert stats['skipped'][reason] == 1
    if reason in SEQUENCE_LEVEL:
        assert stats['skipped']['sequence'] == 1
        assert stats['frames'] == len(TIMES)
    elif reason in ('unreadable_frame', 'size_mismatch') and '.jpg' in where:
        assert stats['frames'] == 2 * len(TIMES) - 1
    elif reason == 'malformed_line':
        # the frame of the refused line (0.1 s) is left out, not kept
        # without its box
        assert stats['frames'] == 2 * len(TIMES) - 1
        assert stats['skipped']['frames dropped (malformed_line)'] == 1
    else:
        assert stats['frames'] == 2 * len(TIMES)

    rc, out, _ = run_tool(fred_layout.checker, root, '--split', 'train',
                          '--workers', '1')
    assert rc == 1 and f'{where}: ' in out and reason in out


def test_tools_on_good_data(root, run_tool, fred_layout):
    root, _ = root
    rc, out, _ = run_tool(fred_layout.checker, root, '--workers', '1')
    assert rc == 0 and out.strip().endswith('OK')
    truncate(osp.join(root, '2', 'Event', 'Frames', 'Video_2_0.png'))
    rc, out, err = run_tool(fred_layout.converter, root, '--workers', '1')
    assert rc == 1 and 'Video_2_0.png: file is truncated' in err
    assert not osp.exists(
        osp.join(root, 'annotations', 'fred_fusion_train.json'))
    rc, out, err = run_tool(fred_layout.converter, root, '--workers', '1',
                            '--skip-bad')
    assert rc == 0 and 'unreadable_frame: 1' in out
