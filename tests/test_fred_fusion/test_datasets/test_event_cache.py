"""The lossless event frame cache, its tool and its use in the loader."""
import glob
import io
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest

from projects.fred_fusion.fred_fusion.converters.event_cache_builder import (
    encode_event_frame, find_event_frame_dirs)
from projects.fred_fusion.fred_fusion.datasets.event_cache import (
    HEADER_LEN, cache_paths, decode_event_frame, load_cache_file)
from projects.fred_fusion.fred_fusion.datasets.fred_data_error import \
    FREDDataError
from projects.fred_fusion.fred_fusion.datasets.transforms import LoadFREDImages
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'fred_event_cache.py')
REAL_EVENT = osp.join(REPO, 'tests', 'data', 'fred', 'real_samples',
                      'night_ev.png')
REAL_RGB = osp.join(REPO, 'tests', 'data', 'fred', 'real_samples',
                    'night_rgb.jpg')


def event_pngs(root):
    return sorted(glob.glob(osp.join(root, '*', 'Event', 'Frames', '*.png')))


def mtimes(root):
    """mtime_ns of every file of the caches under ``root``."""
    return {
        p: os.stat(p).st_mtime_ns
        for p in glob.glob(osp.join(root, '*', 'Event', 'Cache', '*'))
    }


@pytest.fixture
def real_root(tmp_path):
    """The real night frame pair in a sequence, plus a 4-colour frame."""
    root = tmp_path / 'fred'
    frames = root / '7' / 'Event' / 'Frames'
    frames.mkdir(parents=True)
    shutil.copy(REAL_EVENT, frames / 'Video_7_33333.png')
    four = cv2.imread(REAL_EVENT)
    four[10:20, 30:40] = (0, 0, 255)
    cv2.imwrite(str(frames / 'Video_7_66666.png'), four)
    return str(root)


@pytest.fixture
def sample_root(tmp_path):
    root = str(tmp_path / 'sample')
    generate_fred_sample(
        root, preset='tiny', num_sequences=2, num_test=1, num_frames=8)
    return root


def test_round_trip_real_frame():
    img = cv2.imread(REAL_EVENT)
    data = encode_event_frame(img)
    assert data.dtype == np.uint32
    # 3 colours, only the event pixels are stored
    assert data[4] == 3
    assert data.size == HEADER_LEN + np.count_nonzero(
        (img != (52, 37, 30)).any(-1))
    out = decode_event_frame(data)
    assert out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, img)
    # one and two colours
    for n in (1, 2):
        part = img.copy()
        if n == 1:
            part[:] = (52, 37, 30)
        else:
            part[(part == 255).all(-1)] = (52, 37, 30)
        np.testing.assert_array_equal(
            decode_event_frame(encode_event_frame(part)), part)
    assert encode_event_frame(cv2.imread(REAL_RGB)) is None


def test_tool_and_loader_on_real_frames(real_root, run_tool):
    rc, out, _ = run_tool(TOOL, real_root, '--workers', '1')
    assert rc == 0
    assert '2 event frames: 1 cached, 1 not cacheable' in out
    frames = osp.join(real_root, '7', 'Event', 'Frames')
    cache_dir = osp.join(real_root, '7', 'Event', 'Cache')
    with open(osp.join(cache_dir, 'index.json')) as f:
        index = json.load(f)
    assert list(index['cached']) == ['Video_7_33333.png']
    assert index['not_cacheable']['Video_7_66666.png']['colours'] == 4
    assert sorted(os.listdir(cache_dir)) == ['Video_7_33333.npy', 'index.json']
    np.testing.assert_array_equal(
        load_cache_file(osp.join(cache_dir, 'Video_7_33333.npy')),
        cv2.imread(REAL_EVENT))
    for name in ('Video_7_33333.png', 'Video_7_66666.png'):
        results = dict(img_path=REAL_RGB, event_path=osp.join(frames, name))
        for to_float32 in (False, True):
            png = LoadFREDImages('dual', to_float32)(dict(results))
            cached = LoadFREDImages(
                'dual', to_float32, event_cache=True)(
                    dict(results))
            assert cached['event_img'].dtype == png['event_img'].dtype
            np.testing.assert_array_equal(cached['event_img'],
                                          png['event_img'])
            np.testing.assert_array_equal(cached['img'], png['img'])


def test_loader_on_generated_sample(sample_root, run_tool):
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '2')
    assert rc == 0
    pngs = event_pngs(sample_root)
    assert f'{len(pngs)} event frames: {len(pngs)} cached, 0 not' in out
    png_loader = LoadFREDImages('event')
    cache_loader = LoadFREDImages('event', event_cache=True)
    for path in pngs:
        expected = cv2.imread(path)
        np.testing.assert_array_equal(
            load_cache_file(cache_paths(path)[1]), expected)
        results = dict(img_path='unused.jpg', event_path=path)
        png = png_loader(dict(results))['img']
        cached = cache_loader(dict(results))['img']
        np.testing.assert_array_equal(png, expected)
        np.testing.assert_array_equal(cached, expected)


def test_tool_is_idempotent(sample_root, run_tool):
    pngs = event_pngs(sample_root)
    assert run_tool(TOOL, sample_root, '--workers', '1')[0] == 0
    before = mtimes(sample_root)
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '1')
    assert rc == 0
    assert f'{len(pngs)} up to date, 0 cache files written, 0 removed' in out
    assert mtimes(sample_root) == before
    # --verify decodes everything again but rewrites nothing
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '1', '--verify')
    assert rc == 0 and '0 up to date, 0 cache files written' in out
    # a touched PNG is checked again; only its index entry changes
    os.utime(pngs[0], ns=(0, 10**18))
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '1')
    assert f'{len(pngs) - 1} up to date, 0 cache files written' in out
    # a frame that became non-cacheable loses its cache file
    img = cv2.imread(pngs[1])
    img[:2, :2] = (1, 2, 3)
    img[2:4, :2] = (4, 5, 6)
    cv2.imwrite(pngs[1], img)
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '1')
    assert rc == 0 and '1 not cacheable' in out and '1 removed' in out
    assert not osp.exists(cache_paths(pngs[1])[1])
    results = dict(img_path='unused.jpg', event_path=pngs[1])
    np.testing.assert_array_equal(
        LoadFREDImages('event', event_cache=True)(results)['img'], img)


def test_bad_cache_names_the_file(real_root, run_tool):
    assert run_tool(TOOL, real_root, '--workers', '1')[0] == 0
    event = osp.join(real_root, '7', 'Event', 'Frames', 'Video_7_33333.png')
    cache_file = cache_paths(event)[1]
    results = dict(img_path=REAL_RGB, event_path=event)
    with open(cache_file, 'rb') as f:
        good = f.read()

    def load_error():
        with pytest.raises(FREDDataError) as e:
            LoadFREDImages('dual', event_cache=True)(dict(results))
        return str(e.value)

    # truncated
    with open(cache_file, 'wb') as f:
        f.write(good[:-12])
    message = load_error()
    assert cache_file in message and 'corrupt_event_cache' in message
    # one index changed
    data = np.load(io.BytesIO(good))
    data[HEADER_LEN] += 1
    np.save(cache_file, data)
    assert 'checksum mismatch' in load_error()
    # not a cache file
    with open(cache_file, 'wb') as f:
        f.write(b'garbage')
    assert cache_file in load_error()
    # listed but missing
    os.remove(cache_file)
    message = load_error()
    assert cache_file in message and 'missing_event_cache' in message
    # the tool repairs it
    assert run_tool(TOOL, real_root, '--workers', '1')[0] == 0
    LoadFREDImages('dual', event_cache=True)(dict(results))
    # the PNG changed after caching
    os.utime(event, ns=(0, 10**18))
    message = load_error()
    assert cache_file in message and 'stale_event_cache' in message
    # no index at all
    shutil.rmtree(osp.dirname(cache_file))
    assert 'index.json' in load_error()


def test_tool_rejects_root_without_frames(tmp_path, run_tool):
    rc, _, err = run_tool(TOOL, str(tmp_path))
    assert rc == 1 and f'{tmp_path}: no <seq>/Event/Frames folder' in err
    missing = str(tmp_path / 'missing')
    rc, _, err = run_tool(TOOL, missing)
    assert rc == 1 and f'{missing}: data root does not exist' in err


def test_tool_shows_progress_per_sequence(sample_root, run_tool):
    """One progress step per sequence, with the time left."""
    rc, out, _ = run_tool(TOOL, sample_root, '--workers', '1')
    assert rc == 0
    num = len(find_event_frame_dirs(sample_root))
    assert num > 1
    assert re.search(
        rf'\] {num}/{num}, [\d.]+ task/s, elapsed: \d+s, '
        r'ETA: +0s', out), out
