"""The generated KITTI sample, re-read with the real layouts' rules; with a
simulated IMU and with the IMU of real KITTI recordings."""
import filecmp
import json
import os
import os.path as osp
import re
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest
from scipy.io import savemat
from scipy.spatial import cKDTree

from projects.trimodal_odom.trimodal_odom.converters import convert_sequence
from projects.trimodal_odom.trimodal_odom.converters.kitti_imu_io import (
    load_kitti_imu, resample_kitti_imu)
from projects.trimodal_odom.trimodal_odom.converters.oxts_io import (
    OXTS_FIELDS, load_oxts_packets, load_oxts_timestamps, load_raw_calib,
    load_raw_rigid, oxts_to_poses)
from projects.trimodal_odom.trimodal_odom.testing import (
    generate_kitti_sample, read_sample_stamp)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (load_calib,
                                                                 load_poses,
                                                                 load_times,
                                                                 load_velodyne)
from projects.trimodal_odom.trimodal_odom.utils.se3 import (rotation_angle,
                                                            so3_exp, so3_log)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')
CLI = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'tools', 'misc',
    'generate_kitti_sample.py')
DRIVE = osp.join('2011_10_03', '2011_10_03_drive_0027_{}', 'oxts')
# Real KITTI IMU (sequence 00, 401 frames); it stands in for the recording
# of the sample's drive.
REAL_IMU = osp.join(DATA, 'imus', '00_frames0600-1000.mat')
ZERO_IMU = dict(
    imu_noise=dict(acc=0.0, gyro=0.0),
    imu_bias=dict(acc=[0.0] * 3, gyro=[0.0] * 3))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny preset with sequence 00 and 03 (no raw data)."""
    root = str(tmp_path_factory.mktemp('tiny'))
    return root, generate_kitti_sample(root, sequences=('00', '03'))


@pytest.fixture(scope='module')
def exact(tmp_path_factory):
    """Sequence 00 without IMU noise and with dense LiDAR scans."""
    root = str(tmp_path_factory.mktemp('exact'))
    manifest = generate_kitti_sample(
        root,
        lidar_beams=64,
        lidar_azimuths=1024,
        image_size=(32, 10),
        **ZERO_IMU)
    return root, manifest


def _frame_files(folder, ext):
    names = sorted(os.listdir(folder))
    assert all(re.fullmatch(r'\d{6}\.' + ext, n) for n in names), names
    assert names == [f'{i:06d}.{ext}' for i in range(len(names))]
    return [osp.join(folder, n) for n in names]


def _imu_poses(root):
    """Odometry poses of the IMU: ``T_world_cam0 @ Tr @ T_velo_imu``."""
    Tr = load_calib(osp.join(root, 'sequences', '00', 'calib.txt'))['Tr']
    T_velo_imu = load_raw_rigid(
        osp.join(root, 'raw', '2011_10_03', 'calib_imu_to_velo.txt'))
    return load_poses(osp.join(root, 'poses', '00.txt')) @ Tr @ T_velo_imu


def test_odometry_layout(tiny):
    root, manifest = tiny
    real = open(osp.join(DATA, '00.txt')).read().splitlines()
    for seq in ('00', '03'):
        seq_dir = osp.join(root, 'sequences', seq)
        num = manifest['sequences'][seq]['num_frames']
        assert num == 12
        assert len(_frame_files(osp.join(seq_dir, 'image_2'), 'png')) == num
        assert len(_frame_files(osp.join(seq_dir, 'velodyne'), 'bin')) == num
        times = load_times(osp.join(seq_dir, 'times.txt'))
        np.testing.assert_allclose(times, manifest['sequences'][seq]['times'])
        assert times[0] == 0 and np.all(
            np.abs(np.diff(times) - 0.1036) < 0.002)
        assert len(load_poses(osp.join(root, 'poses', f'{seq}.txt'))) == num
        calib = load_calib(osp.join(seq_dir, 'calib.txt'))
        # KITTI axes: Velodyne x forward -> camera z, y left -> camera -x
        np.testing.assert_allclose(
            calib['Tr'][:3, :3], [[0, -1, 0], [0, 0, -1], [1, 0, 0]],
            atol=0.02)
        assert np.all(np.abs(calib['Tr'][:3, 3] - [0, -0.08, -0.27]) < 0.02)
        w, h = manifest['sequences'][seq]['image_size']
        assert (w, h) == (160, 48)
        assert 0 < calib['P2'][0, 2] < w and 0 < calib['P2'][1, 2] < h
    lines = open(osp.join(root, 'poses', '00.txt')).read().splitlines()
    assert [s.split() for s in lines] == [s.split() for s in real[:12]]


def test_sequence_without_raw_data(tiny):
    root, manifest = tiny
    info = manifest['sequences']['03']
    assert info['drive'] is None and not info['has_oxts']
    assert os.listdir(osp.join(root, 'raw')) == ['2011_10_03']
    poses = load_poses(osp.join(root, 'poses', '03.txt'))
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-6)
    # the motion is a real one: a stretch of sequence 09
    real = load_poses(osp.join(DATA, '09.txt'))
    rel_real = np.linalg.solve(real[:-1], real[1:])
    rel = np.linalg.solve(poses[:-1], poses[1:])
    err = np.abs(rel_real[:, :3, 3] - rel[0, :3, 3]).max(1)
    start = int(np.argmin(err))
    np.testing.assert_allclose(
        rel, rel_real[start:start + len(rel)], atol=1e-5)


def test_velodyne_scans(tiny):
    root, _ = tiny
    sizes = []
    for path in _frame_files(
            osp.join(root, 'sequences', '00', 'velodyne'), 'bin'):
        assert osp.getsize(path) % 16 == 0
        points = load_velodyne(path)
        assert points.dtype == np.float32 and np.isfinite(points).all()
        ranges = np.linalg.norm(points[:, :3], axis=1)
        assert ranges.max() <= 80.1 and ranges.min() > 1.0
        assert 0 <= points[:, 3].min() and points[:, 3].max() <= 1
        # the ground lies ~1.73 m below the Velodyne (z up)
        near = ranges < 10
        assert abs(np.median(points[near, 2]) + 1.73) < 0.4
        sizes.append(len(points))
    assert len(set(sizes)) > 1 and min(sizes) > 1000


def test_images(tiny):
    root, _ = tiny
    paths = _frame_files(osp.join(root, 'sequences', '00', 'image_2'), 'png')
    images = [cv2.imread(p) for p in paths]
    for img in images:
        assert img.shape == (48, 160, 3) and img.dtype == np.uint8
        assert img.std() > 20
        # sky above the road: the top row is brighter and bluer than the
        # bottom row
        assert img[0, :, 0].mean() > img[-1, :, 0].mean()
    diffs = [
        np.abs(a.astype(int) - b.astype(int)).mean()
        for a, b in zip(images, images[1:])
    ]
    assert min(diffs) > 3  # the motion is visible


def test_oxts_layout(tiny):
    root, manifest = tiny
    times = np.array(manifest['sequences']['00']['times'])
    stamps = {}
    for kind in ('sync', 'extract'):
        oxts = osp.join(root, 'raw', DRIVE.format(kind))
        packets = load_oxts_packets(osp.join(oxts, 'data'))
        stamps[kind] = load_oxts_timestamps(oxts)
        assert packets.shape == (len(stamps[kind]), 30)
        assert np.all(np.diff(stamps[kind]) > 0)
        assert np.all(packets[:, 25:] == np.round(packets[:, 25:]))
        fields = [
            s.split(':')[0]
            for s in open(osp.join(oxts, 'dataformat.txt')).read().split('\n')
            if s
        ]
        assert tuple(fields) == OXTS_FIELDS
        assert abs(packets[:, 0].mean() - 49.0) < 0.1  # Karlsruhe
        first = open(osp.join(oxts, 'timestamps.txt')).readline()
        assert re.fullmatch(r'2011-10-03 \d\d:\d\d:\d\d\.\d{9}\n', first)
    assert len(stamps['sync']) == len(times)
    np.testing.assert_allclose(
        stamps['sync'] - stamps['sync'][0], times, atol=1e-6)
    rate = 1.0 / np.median(np.diff(stamps['extract']))
    assert 95 < rate < 105
    assert stamps['extract'][0] >= stamps['sync'][0] - 1e-6
    assert stamps['extract'][-1] <= stamps['sync'][-1] + 1e-6


def test_raw_calibration_matches_odometry(tiny):
    root, _ = tiny
    calib = load_calib(osp.join(root, 'sequences', '00', 'calib.txt'))
    raw = osp.join(root, 'raw', '2011_10_03')
    cam = load_raw_calib(osp.join(raw, 'calib_cam_to_cam.txt'))
    for i in range(4):
        np.testing.assert_allclose(
            cam[f'P_rect_0{i}'].reshape(3, 4),
            calib[f'P{i}'],
            rtol=1e-5,
            atol=1e-5)
    np.testing.assert_allclose(cam['S_rect_02'], [160, 48])
    R_rect = np.eye(4)
    R_rect[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    velo_to_cam = load_raw_rigid(osp.join(raw, 'calib_velo_to_cam.txt'))
    np.testing.assert_allclose(R_rect @ velo_to_cam, calib['Tr'], atol=1e-5)
    imu_to_velo = load_raw_rigid(osp.join(raw, 'calib_imu_to_velo.txt'))
    assert rotation_angle(imu_to_velo[:3, :3]) < 0.05
    np.testing.assert_allclose(
        imu_to_velo[:3, 3], [-0.81, 0.32, -0.80], atol=0.02)


def test_oxts_poses_follow_odometry(exact):
    """The devkit's OXTS poses move as the odometry poses (IMU frame)."""
    root, _ = exact
    T_imu = _imu_poses(root)
    expected = np.linalg.solve(T_imu[0], T_imu)
    packets = load_oxts_packets(osp.join(root, 'raw', DRIVE.format('sync')))
    got = oxts_to_poses(packets)
    assert np.abs(got[:, :3, 3] - expected[:, :3, 3]).max() < 1e-4
    rot_err = so3_log(np.swapaxes(got[:, :3, :3], 1, 2) @ expected[:, :3, :3])
    assert np.linalg.norm(rot_err, axis=1).max() < 1e-6
    # the world is level: the IMU's z axis points up, gravity is +9.81 up
    assert np.abs(packets[:, 3:5]).max() < 0.1
    assert abs(np.mean(packets[:, 13]) - 9.81) < 0.5


@pytest.mark.parametrize('window', [(0, 50), (10, 110)])
def test_imu_integration(exact, window):
    """Gyro and specific force integrated over 0.5 s / 1 s of ~100 Hz
    packets land within 2 mm, 3 mm/s and 0.002 deg of the OXTS pose and
    velocity (a 0.1 % error of gravity alone gives 5 mm, 10 mm/s)."""
    root, _ = exact
    oxts = osp.join(root, 'raw', DRIVE.format('extract'))
    packets = load_oxts_packets(oxts)
    stamps = load_oxts_timestamps(oxts)
    poses = oxts_to_poses(packets, relative=False)  # z up, gravity -z
    g = np.array([0.0, 0.0, -9.81])

    def velocity(k):
        return packets[k, [7, 6, 10]]  # ve, vn, vu

    k0, k1 = window
    R, p, v = poses[k0, :3, :3], poses[k0, :3, 3], velocity(k0)
    for k in range(k0, k1):
        dt = stamps[k + 1] - stamps[k]
        R1 = R @ so3_exp(0.5 *
                         (packets[k, 17:20] + packets[k + 1, 17:20]) * dt)
        a0 = R @ packets[k, 11:14] + g
        a1 = R1 @ packets[k + 1, 11:14] + g
        p = p + v * dt + (a0 / 3 + a1 / 6) * dt**2
        v = v + 0.5 * (a0 + a1) * dt
        R = R1
    assert np.linalg.norm(p - poses[k1, :3, 3]) < 0.002
    assert np.linalg.norm(v - velocity(k1)) < 0.003
    assert np.rad2deg(np.linalg.norm(so3_log(R.T @ poses[k1, :3, :3]))) < 0.002


def test_imu_bias_and_noise(tiny, exact):
    """The tiny sample's IMU differs from the exact one by the manifest's
    constant bias plus white noise of the manifest's size."""
    packets = [
        load_oxts_packets(osp.join(root, 'raw', DRIVE.format('extract')))
        for root, _ in (tiny, exact)
    ]
    diff = packets[0] - packets[1]
    manifest = tiny[1]
    for cols, key in ((slice(11, 14), 'acc'), (slice(17, 20), 'gyro')):
        std = manifest['imu_noise'][key]
        bias = np.array(manifest['imu_bias'][key])
        assert np.abs(diff[:, cols].mean(0) -
                      bias).max() < 5 * std / np.sqrt(len(diff))
        assert 0.7 * std < diff[:, cols].std(0).mean() < 1.3 * std
    np.testing.assert_array_equal(diff[:, :11], 0)  # positions, velocities


def test_lidar_scans_agree_in_the_world(exact):
    """Above-ground points of consecutive scans, placed in the world by
    their poses, lie on the same static surfaces; placing a scan with the
    previous frame's pose does not."""
    root, _ = exact
    seq_dir = osp.join(root, 'sequences', '00')
    poses = load_poses(osp.join(root, 'poses', '00.txt'))
    Tr = load_calib(osp.join(seq_dir, 'calib.txt'))['Tr']

    def world(i, pose):
        points = load_velodyne(osp.join(seq_dir, 'velodyne',
                                        f'{i:06d}.bin')).astype(float)
        keep = (np.linalg.norm(points[:, :3], axis=1) < 20) & (
            points[:, 2] > -1.2)
        T = pose @ Tr
        return points[keep, :3] @ T[:3, :3].T + T[:3, 3]

    for i in (0, 5):
        tree = cKDTree(world(i, poses[i]))
        good = tree.query(world(i + 1, poses[i + 1]))[0]
        wrong = tree.query(world(i + 1, poses[i]))[0]
        assert np.percentile(good, 90) < 0.15
        assert np.percentile(wrong, 90) > 0.4


def test_deterministic_by_seed(tiny, tmp_path):
    root, manifest = tiny
    again = generate_kitti_sample(str(tmp_path / 'a'), sequences=('00', '03'))
    assert again == manifest
    for sub in ('sequences/00/velodyne', 'sequences/00/image_2',
                'sequences/03/velodyne', DRIVE.format('extract') + '/data'):
        a, b = osp.join(root, 'raw' if 'oxts' in sub else '',
                        sub), osp.join(tmp_path, 'a',
                                       'raw' if 'oxts' in sub else '', sub)
        names = sorted(os.listdir(a))
        assert filecmp.cmpfiles(a, b, names, shallow=False)[0] == names
    other = generate_kitti_sample(str(tmp_path / 'b'), seed=1, num_frames=2)
    assert other['imu_bias'] != manifest['imu_bias']
    name = osp.join('sequences', '00', 'velodyne', '000001.bin')
    assert not filecmp.cmp(
        osp.join(root, name), osp.join(tmp_path, 'b', name), shallow=False)


def test_manifest_and_stamp(tiny):
    root, manifest = tiny
    assert manifest['preset'] == 'tiny' and manifest['seed'] == 0
    info = manifest['sequences']['00']
    assert info['drive'] == '2011_10_03_drive_0027'
    assert info['raw_start'] == 0 and info['has_oxts']
    assert manifest['gravity'] == 9.81 and 'x forward' in manifest['imu_frame']
    assert set(manifest['calib']) >= {'P0', 'P1', 'P2', 'P3', 'Tr'}
    assert read_sample_stamp(root)['manifest'] == json.loads(
        json.dumps(manifest))


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match='preset'):
        generate_kitti_sample(str(tmp_path), preset='huge')
    with pytest.raises(ValueError, match='lidar_rays'):
        generate_kitti_sample(str(tmp_path), lidar_rays=3)
    with pytest.raises(ValueError, match='sequence 05'):
        generate_kitti_sample(str(tmp_path), sequences=('05', ))
    with pytest.raises(ValueError, match='imu_bias'):
        generate_kitti_sample(str(tmp_path), imu_bias=dict(acc=[0, 0]))
    with pytest.raises(ValueError, match='trajector'):
        generate_kitti_sample(str(tmp_path), num_frames=601)


def test_cli_is_idempotent(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / 'cli')
    manifest = str(tmp_path / 'manifest.json')
    argv = [CLI, root, '--sequences', '0', '--manifest', manifest]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(CLI, run_name='__main__')
    assert 'wrote sequences' in capsys.readouterr().out
    first = json.load(open(manifest))
    # a shorter earlier run leaves no stale frames behind
    assert first['sequences']['00']['num_frames'] == 12
    os.remove(manifest)
    runpy.run_path(CLI, run_name='__main__')
    assert 'already complete' in capsys.readouterr().out
    assert json.load(open(manifest)) == first
    generate_kitti_sample(root, num_frames=5)
    assert len(os.listdir(osp.join(root, 'sequences', '00', 'velodyne'))) == 5
    assert len(load_oxts_packets(osp.join(root, 'raw',
                                          DRIVE.format('sync')))) == 5


def test_real_frames_parse():
    frames = osp.join(DATA, 'real_frames')
    points = load_velodyne(osp.join(frames, '000000.bin'))
    assert points.shape == (800, 4) and points.dtype == np.float32
    for name in ('000000.png', '000007.png'):
        img = cv2.imread(osp.join(frames, name))
        assert img is not None and img.shape[2] == 3
        # KITTI images are about 1242 x 375 (1224 x 370 on some days)
        assert 1220 <= img.shape[1] <= 1242 and 368 <= img.shape[0] <= 376


@pytest.fixture
def imu_root(tmp_path):
    root = tmp_path / 'imus'
    root.mkdir()
    shutil.copy(REAL_IMU, root / '00.mat')
    return str(root)


def test_oxts_hold_the_recorded_imu(tmp_path, imu_root):
    root = str(tmp_path / 'sample')
    manifest = generate_kitti_sample(root, imu_root=imu_root)
    assert manifest['imu_source'] == 'real'
    assert read_sample_stamp(root)['settings']['imu_root'] == imu_root
    real = load_kitti_imu(osp.join(imu_root, '00.mat'))
    times = load_times(osp.join(root, 'sequences', '00', 'times.txt'))
    sync = load_oxts_packets(osp.join(root, 'raw', DRIVE.format('sync')))
    # frame k of the sample holds row 10 k of the recording
    np.testing.assert_allclose(sync[:, 11:14], real[:120:10, :3], atol=1e-9)
    np.testing.assert_allclose(sync[:, 17:20], real[:120:10, 3:], atol=1e-9)
    extract = load_oxts_packets(osp.join(root, 'raw', DRIVE.format('extract')))
    acc, gyro = resample_kitti_imu(real[:10 * (len(times) - 1) + 1], times,
                                   times[0] + 0.01 * np.arange(len(extract)))
    # extract packets lie within 5 % of a 100 Hz step of the grid
    np.testing.assert_allclose(extract[:, 19], gyro[:, 2], atol=2e-3)
    assert np.abs(extract[:, 13] - acc[:, 2]).max() < 0.5
    # the converter reads the recording back through the OXTS path
    info = convert_sequence(root, '00', imu_frame='imu')
    window = info['data_list'][3]['imu']
    np.testing.assert_allclose(
        window['gyro'][0],
        real[30, 3:],
        atol=1e-3 + 0.1 * np.abs(real[31, 3:] - real[29, 3:]).max())


def test_short_recording_is_refused(tmp_path, imu_root):
    path = osp.join(imu_root, '00.mat')
    savemat(path, dict(imu_data_interp=np.zeros((51, 6))))
    with pytest.raises(
            ValueError,
            match='00.mat: 51 IMU rows, the sample '
            'needs 111 for its 12 frames'):
        generate_kitti_sample(str(tmp_path / 'sample'), imu_root=imu_root)


def test_real_imu_cli_options(tmp_path, imu_root, monkeypatch, capsys):
    root = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [CLI, root, '--imu-source', 'real'])
    with pytest.raises(SystemExit, match='needs --imu-root'):
        runpy.run_path(CLI, run_name='__main__')
    argv = [CLI, root, '--imu-source', 'real', '--imu-root', imu_root]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(CLI, run_name='__main__')
    assert 'wrote sequences' in capsys.readouterr().out
    runpy.run_path(CLI, run_name='__main__')
    assert 'already complete' in capsys.readouterr().out
    # the synthetic IMU is another sample: generated again
    monkeypatch.setattr(sys, 'argv', [CLI, root])
    runpy.run_path(CLI, run_name='__main__')
    assert 'wrote sequences' in capsys.readouterr().out
    assert len(os.listdir(osp.join(root, 'sequences', '00', 'velodyne'))) == 12
