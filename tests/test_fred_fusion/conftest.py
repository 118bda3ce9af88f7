"""Writers of small FRED folders in the on-disk layout of the release."""
import importlib.util
import os
import os.path as osp
import shutil
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DATA = osp.join(REPO, 'tests', 'data', 'fred')
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'fred_converter.py')
CHECKER = osp.join(REPO, 'tools', 'misc', 'check_fred_integrity.py')


def rgb_name(seq: str, wall: float) -> str:
    """``Video_<seq>_<H>_<M>_<S.frac>.jpg`` of a wall-clock time (s)."""
    wall %= 24 * 3600
    h, rest = divmod(wall, 3600)
    m, s = divmod(rest, 60)
    return f'Video_{seq}_{int(h)}_{int(m):02d}_{s:09.6f}.jpg'


def write_sequence(root: str,
                   seq: str,
                   rgb_times,
                   event_us,
                   size=(64, 48),
                   start_wall=16 * 3600 + 3 * 60 + 3.363563,
                   ann_lines=None,
                   seed=0) -> dict:
    """Write one sequence; event frames are copies of RGB frames.

    Every RGB frame is a random gray texture; the event frame nearest to
    it holds the same decoded pixels (so geometric alignment can be checked).
    Returns the written RGB file names and event names.
    """
    rng = np.random.RandomState(seed)
    w, h = size
    seq_dir = osp.join(root, seq)
    os.makedirs(osp.join(seq_dir, 'RGB'), exist_ok=True)
    os.makedirs(osp.join(seq_dir, 'Event', 'Frames'), exist_ok=True)
    textures = [
        cv2.resize(
            rng.randint(0, 256, (h // 4, w // 4), np.uint8), (w, h),
            interpolation=cv2.INTER_NEAREST) for _ in rgb_times
    ]
    rgb_files = []
    for i, (t, tex) in enumerate(zip(rgb_times, textures)):
        name = rgb_name(seq, start_wall + t)
        path = osp.join(seq_dir, 'RGB', name)
        cv2.imwrite(path, cv2.merge([tex] * 3))
        # The event frame holds exactly the decoded RGB pixels.
        textures[i] = cv2.imread(path)
        rgb_files.append(name)
    event_files = []
    for us in event_us:
        i = int(np.argmin([abs(us / 1e6 - t) for t in rgb_times]))
        name = f'Video_{seq}_{us}.png'
        cv2.imwrite(osp.join(seq_dir, 'Event', 'Frames', name), textures[i])
        event_files.append(name)
    if ann_lines is None:
        ann_lines = [
            f'{t:.6f}: 10.0, 8.0, 30.0, 24.0, 1, DJI Mini 2' for t in rgb_times
        ]
    for coords in ('coordinates.txt', 'coordinates_rgb.txt'):
        with open(osp.join(seq_dir, coords), 'w') as f:
            f.write('\n'.join(ann_lines) + '\n')
    return dict(rgb=rgb_files, event=event_files)


def write_splits(root: str, splits: dict) -> None:
    os.makedirs(osp.join(root, 'dataset_splits'), exist_ok=True)
    for split, seqs in splits.items():
        with open(osp.join(root, 'dataset_splits', f'{split}_split.txt'),
                  'w') as f:
            f.write(''.join(f'{s}/\n' for s in seqs))


def write_small_root(root: str, size=(64, 48)) -> str:
    """Two sequences: '1' fully paired, '2' with a gap in the events.

    Sequence 2 has 6 RGB frames; events stop after the third, so the last
    three RGB frames are unpaired at a 0.05 s threshold.
    """
    times = [i / 30 for i in range(6)]
    write_sequence(root, '1', times, [round(t * 1e6) + 2000 for t in times],
                   size)
    write_sequence(
        root,
        '2',
        times, [round(t * 1e6) for t in times[:3]],
        size,
        ann_lines=[
            f'{t:.6f}: 5, 5, 20, 20, 3, DJI Tello EDU' for t in times[:4]
        ],
        seed=1)
    write_splits(root, dict(train=['1', '2'], test=['2']))
    return root


@pytest.fixture(scope='session')
def fred_tiny_root(tmp_path_factory) -> str:
    """The 'tiny' generated FRED sample, converted by the real converter,
    with the lossless event cache (which the device-path configs of the
    real FRED read)."""
    from projects.fred_fusion.fred_fusion.converters.event_cache_builder \
        import cache_sequence, find_event_frame_dirs
    from projects.fred_fusion.fred_fusion.testing import generate_fred_sample
    root = str(tmp_path_factory.mktemp('fred_tiny'))
    generate_fred_sample(root, preset='tiny', seed=0)
    spec = importlib.util.spec_from_file_location('fred_converter', CONVERTER)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    assert converter.main([root, '--workers', '1']) == 0
    for frames_dir in find_event_frame_dirs(root):
        assert not cache_sequence(frames_dir)['failed']
    return root + '/'


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


@pytest.fixture
def fred_root(tmp_path):
    return write_small_root(str(tmp_path / 'fred'))


@pytest.fixture(scope='session')
def fred_layout():
    """The writers above, for tests in sub-folders."""
    return SimpleNamespace(
        write_sequence=write_sequence,
        write_splits=write_splits,
        data=DATA,
        converter=CONVERTER,
        checker=CHECKER)


@pytest.fixture
def run_tool(capsys):
    """Run a command-line tool's ``main`` in this process.

    Returns a function ``(tool_path, *args) -> (rc, stdout, stderr)``.
    """

    def _run(path, *args):
        spec = importlib.util.spec_from_file_location(
            osp.splitext(osp.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rc = module.main(list(args))
        captured = capsys.readouterr()
        return rc, captured.out, captured.err

    return _run


@pytest.fixture
def fred_data():
    """Folder of the real FRED excerpts shipped with the tests."""
    return DATA


@pytest.fixture
def copy_real(tmp_path):

    def _copy(rel):
        dst = tmp_path / osp.basename(rel)
        shutil.copy(osp.join(DATA, rel), dst)
        return str(dst)

    return _copy
