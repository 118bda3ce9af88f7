"""The registration-prior cache: built once (in parallel or not, the same
priors), skipped when up to date, refused when stale."""
import os.path as osp

import mmengine
import numpy as np
import pytest
from kitti_odom_layout import run_tool
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.converters import (
    build_reg_prior_cache, create_kitti_odom_infos,
    registration_cfg_from_config)
from projects.trimodal_odom.trimodal_odom.datasets import (
    KittiOdometryDataset, RegPriorCache, reg_prior_file_name)
from projects.trimodal_odom.trimodal_odom.datasets.odom_info_file import \
    info_file_name
from projects.trimodal_odom.trimodal_odom.datasets.transforms import \
    OdomScanRegistration
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.testing.hard_sample import \
    generate_hard_sample
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (
    KittiFormatError, load_velodyne)
from projects.trimodal_odom.trimodal_odom.utils.registration import \
    ScanRegistration
from projects.trimodal_odom.trimodal_odom.utils.se3 import pose_to_vector

TOOL = 'tools/dataset_converters/kitti_reg_prior_cache.py'


@pytest.fixture
def sample(tmp_path):
    root = str(tmp_path / 'kitti')
    generate_kitti_sample(root, preset='tiny', sequences=('00', ))
    create_kitti_odom_infos(root)
    return root


def read(path):
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def test_parallel_build_equals_serial_and_is_kept(sample, tmp_path,
                                                  monkeypatch, capsys):
    serial = build_reg_prior_cache(
        sample, out_dir=str(tmp_path / 'serial'), chunk_size=4)
    assert serial == [str(tmp_path / 'serial' / reg_prior_file_name('00'))]
    out = capsys.readouterr().out  # a bar per sequence, a step a chunk
    assert '3/3' in out and 'ETA' in out
    # the tool, two processes, default output beside the infos
    assert run_tool(TOOL, [sample, '--nproc', '2'], monkeypatch) == 0
    assert '1/1' in capsys.readouterr().out
    path = osp.join(sample, 'infos', reg_prior_file_name('00'))
    a, b = read(serial[0]), read(path)
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert a['frame_ids'].tolist() == [[i, i + 1] for i in range(11)]
    assert a['converged'].all()
    # up to date: skipped; --force recomputes
    assert build_reg_prior_cache(sample) == []
    assert build_reg_prior_cache(sample, force=True) == [path]
    # other settings: rebuilt
    assert build_reg_prior_cache(sample, downsample=0.4) == [path]
    settings = ScanRegistration(downsample=0.4).settings()
    assert len(RegPriorCache(path, settings)) == 11


def test_stale_caches_are_refused(sample):
    path = osp.join(sample, 'infos', reg_prior_file_name('00'))
    with pytest.raises(
            KittiFormatError,
            match='cache not found; build it with python tools'):
        RegPriorCache(path, ScanRegistration().settings())
    build_reg_prior_cache(sample, frame_gap=1)
    with pytest.raises(KittiFormatError) as e:
        RegPriorCache(path, ScanRegistration(downsample=0.4).settings())
    assert path in str(e.value)
    assert 'downsample=0.6 (wanted 0.4)' in str(e.value)
    assert '--force --reg-cfg downsample=0.4' in str(e.value)
    cache = RegPriorCache(path, ScanRegistration().settings(), '00')
    scans = [
        osp.join(sample, f'sequences/00/velodyne/{i:06d}.bin')
        for i in range(3)
    ]
    T, info = cache.lookup((1, 2), scans[1:])
    assert info['converged'] and 0.6 < np.linalg.norm(T[:3, 3]) < 1.0
    with pytest.raises(
            KittiFormatError,
            match=r'no prior for frames '
            r'\(0, 2\).*--frame-gap 2'):
        cache.lookup((0, 2), scans[::2])
    with pytest.raises(KittiFormatError, match='frame 1 was sequences'):
        cache.lookup((1, 2), scans[:2])
    # the scan changes (same size): stale
    points = load_velodyne(scans[2])
    points[:, 0] += 0.5
    points.tofile(scans[2])
    with pytest.raises(KittiFormatError, match='stale.*000002.bin changed'):
        cache.lookup((1, 2), scans[1:])
    # the builder sees it too
    assert build_reg_prior_cache(sample) == [path]


def test_pipeline_without_its_cache_says_how_to_build_it(sample):
    init_default_scope('mmdet3d')
    pipeline = [
        dict(type='LoadOdomPoints', coord_type='LIDAR', load_dim=4, use_dim=4),
        dict(
            type='OdomScanRegistration', prior_cache=osp.join(sample, 'infos'))
    ]
    ds = KittiOdometryDataset(
        sample, sequences='00', pipeline=pipeline, test_mode=True)
    with pytest.raises(
            KittiFormatError,
            match='kitti_reg_priors_00.npz: registration-prior cache not '
            'found; build it with python tools/dataset_converters/'
            'kitti_reg_prior_cache.py'):
        ds[0]


def test_builder_needs_the_infos(tmp_path, monkeypatch, capsys):
    assert run_tool(TOOL, [str(tmp_path)], monkeypatch) == 1
    assert 'no info files; create them with' in capsys.readouterr().err


def test_deskewed_cache_equals_the_pipeline(tmp_path):
    """A cache of IMU-deskewed priors of the swept hard sample holds what
    OdomScanRegistration computes on the fly from the samples' own IMU
    windows (gyro rotated into the LiDAR frame)."""
    init_default_scope('mmdet3d')
    root = str(tmp_path / 'hard')
    generate_hard_sample(root, preset='hard-tiny')
    create_kitti_odom_infos(root, imu_frame='camera')
    path, = build_reg_prior_cache(root, deskew='imu')
    cache = read(path)
    # pairs where a registration failed (the failure stretches) keep the
    # first estimate, not deskewed
    assert set(cache['deskewed_with'][:10]) == {'imu'}
    assert set(cache['deskewed_with']) == {'imu', ''}
    priors = {}
    for cached in (True, False):
        ds = KittiOdometryDataset(
            root,
            sequences='00',
            pipeline=[
                dict(
                    type='LoadOdomPoints',
                    coord_type='LIDAR',
                    load_dim=4,
                    use_dim=4),
                dict(
                    type='OdomScanRegistration',
                    prior_cache=osp.join(root, 'infos') if cached else None,
                    deskew='imu')
            ],
            test_mode=True)
        out = [ds[i] for i in (1, 4)]
        assert [o['reg_info']['deskew'] for o in out] == ['imu', 'imu']
        priors[cached] = np.stack([o['reg_prior'] for o in out])
    np.testing.assert_allclose(priors[True], priors[False], atol=1e-5)


def test_tool_takes_the_settings_of_a_config(sample, tmp_path, monkeypatch,
                                             capsys):
    """``--config``: the cache holds the priors the config's pipelines read
    (their settings, the same in train, val and test), or the tool names
    the problem."""
    config = ('configs/trimodal_odom/'
              'trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-sample.py')
    settings = registration_cfg_from_config(config)
    assert settings and not {'type', 'prior_cache'} & set(settings)
    # the transform's own options are not registration settings
    quality = ('configs/trimodal_odom/trimodal-odom_light-pointnet-gru-icp-'
               'reg-quality_1xb2-3e_kitti-hard.py')
    assert registration_cfg_from_config(quality) == dict(
        max_points=None, downsample=0.5)
    assert run_tool(TOOL, [sample, '--config', config], monkeypatch) == 0
    path = osp.join(sample, 'infos', reg_prior_file_name('00'))
    RegPriorCache(path, ScanRegistration(**settings).settings(), '00')
    with pytest.raises(KittiFormatError, match='registration settings'):
        RegPriorCache(path, ScanRegistration().settings(), '00')
    # a config without the step, and one whose pipelines disagree
    plain = tmp_path / 'plain.py'
    plain.write_text('train_dataloader = dict(dataset=dict(pipeline=[]))\n')
    assert run_tool(TOOL, [sample, '--config', str(plain)], monkeypatch) == 1
    assert 'no OdomScanRegistration step' in capsys.readouterr().err
    mixed = tmp_path / 'mixed.py'
    mixed.write_text(f'_base_ = {osp.abspath(config)!r}\n'
                     'test_dataloader = dict(dataset=dict(pipeline=['
                     "dict(type='OdomScanRegistration', downsample=0.3)]))\n")
    assert run_tool(TOOL, [sample, '--config', str(mixed)], monkeypatch) == 1
    err = capsys.readouterr().err
    assert 'the OdomScanRegistration steps differ' in err
    assert "test_dataloader.dataset.pipeline[0]: {'downsample': 0.3}" in err
    assert run_tool(TOOL, [sample, '--config',
                           str(tmp_path / 'none.py')], monkeypatch) == 1
    assert 'none.py' in capsys.readouterr().err


def test_sequential_cache_follows_the_sequence(sample, tmp_path):
    """A sequential registration (``predict``) is one chain along the
    sequence, whatever the chunk size and the processes: every pair is
    registered from the previous pair's estimate; the pipeline reads it
    from the cache and refuses to compute it on the fly."""
    cfg = dict(predict='motion', min_eigen_ratio=0.02)
    one, = build_reg_prior_cache(
        sample, out_dir=str(tmp_path / 'a'), chunk_size=4, **cfg)
    two, = build_reg_prior_cache(
        sample, out_dir=str(tmp_path / 'b'), nproc=2, **cfg)
    a, b = read(one), read(two)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # the same chain, pair by pair
    frames = mmengine.load(osp.join(sample, 'infos',
                                    info_file_name('00')))['data_list']
    scans = [load_velodyne(osp.join(sample, f['lidar_path'])) for f in frames]
    reg, previous = ScanRegistration(**cfg), None
    for k in range(len(scans) - 1):
        T, info = reg.register(scans[k + 1], scans[k], previous=previous)
        previous = T if info['converged'] else info['prediction']
        np.testing.assert_allclose(
            a['pose'][k], pose_to_vector(T), atol=1e-9, err_msg=str(k))
    # the tiny sample constrains every direction: the chain converges to
    # the pair-by-pair priors, under its own key
    plain, = build_reg_prior_cache(sample, out_dir=str(tmp_path / 'c'))
    np.testing.assert_allclose(read(plain)['pose'], a['pose'], atol=1e-4)
    assert 'predict' in str(a['settings'])
    assert 'predict' not in str(read(plain)['settings'])
    with pytest.raises(ValueError, match='from a prior_cache'):
        OdomScanRegistration(**cfg)
