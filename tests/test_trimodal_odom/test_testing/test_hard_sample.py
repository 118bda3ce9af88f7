"""The hard presets: swept scans, moving cars and failure stretches where
the manifest says, in the real layouts."""
import json
import os
import os.path as osp
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.converters.kitti_imu_io import \
    load_kitti_imu
from projects.trimodal_odom.trimodal_odom.converters.oxts_io import \
    load_oxts_packets
from projects.trimodal_odom.trimodal_odom.testing import (generate_hard_sample,
                                                          read_sample_stamp)
from projects.trimodal_odom.trimodal_odom.testing.hard_sample import (
    HARD_PRESETS, _trajectory)
from projects.trimodal_odom.trimodal_odom.testing.sensor_failures import \
    plan_stretches
from projects.trimodal_odom.trimodal_odom.testing.stamps import STAMP_NAME
from projects.trimodal_odom.trimodal_odom.testing.swept_lidar import \
    SensorTrajectory
from projects.trimodal_odom.trimodal_odom.testing.synthetic_scene import (
    SyntheticScene, path_arcs)
from projects.trimodal_odom.trimodal_odom.utils.deskew import \
    point_time_offsets
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (load_calib,
                                                                 load_poses,
                                                                 load_times,
                                                                 load_velodyne)

CLI = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'tools', 'misc',
    'generate_kitti_sample.py')
CAR_HALF = np.array([0.85, 0.75, 2.15])
# real KITTI IMU (sequence 00, 401 frames), standing in for the recording of
# the sample's drive
REAL_IMU = osp.join(
    osp.dirname(__file__), '..', '..', 'data', 'kitti', 'imus',
    '00_frames0600-1000.mat')


@pytest.fixture(scope='module')
def hard(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('hard'))
    return root, generate_hard_sample(root, preset='hard-tiny')


def _sequence(root):
    seq_dir = osp.join(root, 'sequences', '00')
    poses = load_poses(osp.join(root, 'poses', '00.txt'))
    times = load_times(osp.join(seq_dir, 'times.txt'))
    Tr = load_calib(osp.join(seq_dir, 'calib.txt'))['Tr']
    return seq_dir, poses, times, Tr


def _world_points(root, i):
    """Scan ``i`` in the world, every point placed with the sensor pose of
    its own time (read from its azimuth); and those times (N,)."""
    seq_dir, poses, times, Tr = _sequence(root)
    points = load_velodyne(osp.join(seq_dir, 'velodyne', f'{i:06d}.bin'))
    xyz = points[:, :3].astype(np.float64)
    t = times[i] + point_time_offsets(xyz)
    T = SensorTrajectory(times, poses @ Tr)(t)
    return np.einsum('nij,nj->ni', T[:, :3, :3], xyz) + T[:, :3, 3], t


def _car_local(scene, car, t, arcs, times, world):
    """Points ``world`` (N, 3) in the frame of ``car`` (manifest entry) at
    times ``t`` (N,)."""
    p = car['arc']
    s = p['a'] + p['b'] * t + p['c'] * np.interp(t, times, arcs)
    xz, tangent = scene.road_pose(s)
    right = np.stack([tangent[:, 1], -tangent[:, 0]], -1)
    rel = world[:, [0, 2]] - xz - car['lateral'] * right
    along = (rel * tangent).sum(1)
    across = (rel * right).sum(1)
    height = scene.ground_y(world[:, 0], world[:, 2], grad=False)[0] - \
        world[:, 1]
    return np.stack([across, height, along], -1)


def _inside(local):
    return (np.abs(local[:, 0]) < CAR_HALF[0] + 0.1) & (np.abs(
        local[:, 2]) < CAR_HALF[2] + 0.1) & (local[:, 1] > 0.2) & (
            local[:, 1] < 1.6)


def test_layout_and_manifest(hard):
    root, manifest = hard
    info = manifest['sequences']['00']
    assert info['num_frames'] == 40 and info['labelled'] and info['has_oxts']
    assert info['drive'] == '2011_10_03_drive_0027'
    assert len(load_poses(osp.join(root, 'poses', '00.txt'))) == 40
    assert {f['kind'] for f in info['failures']} == {'open_road', 'dark'}
    assert manifest['lidar']['sweep_time'] == 0.1
    assert read_sample_stamp(root)['manifest'] == json.loads(
        json.dumps(manifest))


def test_moving_cars_are_seen_and_move(hard):
    """Points of the scans fall in the boxes of the manifest's cars at the
    scans' times; where a car drove more than its length since an earlier
    frame, its points are out of its box of that time."""
    root, manifest = hard
    _, poses, times, _ = _sequence(root)
    arcs = path_arcs(poses)
    scene = SyntheticScene(
        poses,
        np.random.default_rng(0),
        margin=manifest['lidar']['max_range'] + 20)
    seen, moved = set(), 0
    for i in range(6, 40, 3):
        world, t = _world_points(root, i)
        for k, car in enumerate(manifest['sequences']['00']['moving_cars']):
            now = _inside(_car_local(scene, car, t, arcs, times, world))
            if now.sum() < 20:
                continue
            seen.add(k)
            back = t[now] - (times[i] - times[i - 6])
            earlier = _car_local(scene, car, back, arcs, times, world[now])
            if np.abs(np.median(earlier[:, 2])) > 2 * CAR_HALF[2]:
                assert _inside(earlier).mean() < 0.2
                moved += 1
    assert len(seen) >= 2 and moved >= 3


def test_failure_stretches_where_the_manifest_says(hard):
    root, manifest = hard
    seq_dir, poses, times, _ = _sequence(root)
    failures = {f['kind']: f for f in manifest['sequences']['00']['failures']}
    scene = SyntheticScene(
        poses,
        np.random.default_rng(0),
        margin=manifest['lidar']['max_range'] + 20)
    arcs = path_arcs(poses)

    def static_structure(i):
        """Fraction of the points of scan ``i`` above the ground and not on
        a moving car."""
        world, t = _world_points(root, i)
        ground = scene.ground_y(world[:, 0], world[:, 2], grad=False)[0]
        above = ground - world[:, 1] > 0.3
        for car in manifest['sequences']['00']['moving_cars']:
            above &= ~_inside(_car_local(scene, car, t, arcs, times, world))
        return above.mean()

    # nothing static in the stretch; more and more approaching it back from
    # 25 m before (the scene is cleared the LiDAR's range, 40 m, around it)
    road = failures['open_road']
    inside = [static_structure(i) for i in range(road['first'], road['last'])]
    before = np.flatnonzero(arcs < road['arc'][0] - 25)
    assert len(before) >= 3
    assert max(inside) < 0.01
    assert min(static_structure(i) for i in before) > 0.04

    def brightness(i):
        return cv2.imread(osp.join(seq_dir, 'image_2', f'{i:06d}.png')).mean()

    dark = failures['dark']
    normal = [
        brightness(i) for i in range(40)
        if not dark['first'] <= i <= dark['last']
    ]
    dimmed = [brightness(i) for i in range(dark['first'], dark['last'] + 1)]
    assert max(dimmed) < 0.2 * min(normal)


def test_bad_settings(tmp_path):
    with pytest.raises(ValueError, match='preset'):
        generate_hard_sample(str(tmp_path), preset='hardest')
    with pytest.raises(ValueError, match=r"\['05'\]"):
        generate_hard_sample(
            str(tmp_path), preset='hard-tiny', sequences=['05'])
    with pytest.raises(ValueError, match='cannot hold'):
        generate_hard_sample(str(tmp_path), preset='hard-tiny', num_frames=10)
    with pytest.raises(ValueError, match='not found'):
        generate_hard_sample(
            str(tmp_path), preset='hard-tiny', poses_root=str(tmp_path))


def test_cli(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [CLI, root, '--preset', 'hard-tiny'])
    runpy.run_path(CLI, run_name='__main__')
    assert 'wrote sequences' in capsys.readouterr().out
    runpy.run_path(CLI, run_name='__main__')
    assert 'already complete' in capsys.readouterr().out
    # another image size is another sample
    monkeypatch.setattr(sys, 'argv', [
        CLI, root, '--preset', 'hard-tiny', '--image-size', '144', '48',
        '--nproc', '2'
    ])
    runpy.run_path(CLI, run_name='__main__')
    assert 'wrote sequences' in capsys.readouterr().out
    assert cv2.imread(
        osp.join(root, 'sequences', '00', 'image_2',
                 '000000.png')).shape == (48, 144, 3)
    runpy.run_path(CLI, run_name='__main__')
    assert 'already complete' in capsys.readouterr().out


@pytest.mark.parametrize('extra, message', [
    (['--sequences', '09'], "error: sequences ['09'] are not in preset "
     "'hard-tiny'"),
    (['--preset', 'tiny', '--poses-root', 'poses'
      ], '--poses-root is an option of the hard presets'),
    (['--preset', 'tiny', '--nproc', '2'
      ], '--nproc is an option of the hard presets'),
    (['--image-size', '4', '4'], 'error: image_size: expected a width'),
    (['--preset', 'tiny', '--image-size', '0', '96'
      ], 'error: image_size: expected a width'),
])
def test_cli_refuses_settings_that_do_not_fit(tmp_path, monkeypatch, extra,
                                              message):
    """A one-line error, no traceback, and nothing written."""
    root = str(tmp_path / 'hard')
    monkeypatch.setattr(sys, 'argv',
                        [CLI, root, '--preset', 'hard-tiny'] + extra)
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(CLI, run_name='__main__')
    assert str(exc.value).startswith(message), exc.value
    assert not osp.exists(osp.join(root, 'sequences'))


def test_oxts_hold_the_recorded_imu(tmp_path):
    """With ``imu_root`` the OXTS of the hard sample carry the recorded
    accelerations and angular rates of the drive, frame ``k`` holding row
    ``10 k`` of the recording."""
    imu_root = tmp_path / 'imus'
    imu_root.mkdir()
    shutil.copy(REAL_IMU, imu_root / '00.mat')
    root = str(tmp_path / 'hard')
    manifest = generate_hard_sample(
        root, preset='hard-tiny', imu_root=str(imu_root))
    assert manifest['imu_source'] == 'real'
    assert read_sample_stamp(root)['settings']['imu_root'] == str(imu_root)
    real = load_kitti_imu(str(imu_root / '00.mat'))
    sync = load_oxts_packets(
        osp.join(root, 'raw', '2011_10_03', '2011_10_03_drive_0027_sync',
                 'oxts'))
    assert len(sync) == 40
    np.testing.assert_allclose(sync[:, 11:14], real[:400:10, :3], atol=1e-9)
    np.testing.assert_allclose(sync[:, 17:20], real[:400:10, 3:], atol=1e-9)


def test_every_sequence_of_the_hard_preset_holds_its_stretches():
    """The failure stretches of every sequence of the full preset can be
    placed on its trajectory (planning only, nothing rendered)."""
    cfg = HARD_PRESETS['hard']
    for seq, plan in cfg['sequences'].items():
        poses = _trajectory(seq, plan, None)
        stretches = plan_stretches(
            plan['failures'],
            path_arcs(poses),
            rng=np.random.default_rng([0, int(seq), 5]),
            reach=cfg['lidar']['max_range'],
            headings=np.arctan2(poses[:, 0, 2], poses[:, 2, 2]),
            isolate=plan.get('isolate', False),
            **cfg['stretch'])
        assert sorted(s['kind']
                      for s in stretches) == sorted(plan['failures']), seq


def _files(root):
    """Relative path -> bytes of every file of a sample but its stamp."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name != STAMP_NAME:
                path = osp.join(folder, name)
                with open(path, 'rb') as f:
                    out[osp.relpath(path, root)] = f.read()
    return out


def test_image_size_scales_the_cameras_and_nothing_else(hard, tmp_path):
    """Images 1.5 times as large show the same view (shrunk back, they
    match the preset's frame far better than the next frame does), the
    projections scale with them, and scans, poses and OXTS are the same to
    the byte; the stamp records the size."""
    root, _ = hard
    wide = str(tmp_path / 'wide')
    manifest = generate_hard_sample(
        wide, preset='hard-tiny', image_size=(144, 48))
    assert manifest['sequences']['00']['image_size'] == [144, 48]
    assert read_sample_stamp(wide)['settings']['overrides'] == dict(
        image_size=[144, 48])
    seq, ref_seq = (osp.join(r, 'sequences', '00') for r in (wide, root))
    P2 = load_calib(osp.join(seq, 'calib.txt'))['P2']
    P2_ref = load_calib(osp.join(ref_seq, 'calib.txt'))['P2']
    np.testing.assert_allclose(P2[:2], 1.5 * P2_ref[:2], rtol=1e-9)

    def image(folder, i, size=None):
        im = cv2.imread(osp.join(folder, 'image_2', f'{i:06d}.png'))
        assert size is None or im.shape == size
        im = cv2.resize(im, (96, 32), interpolation=cv2.INTER_AREA)
        # low-passed: the pixels sample the scene at other points
        return cv2.GaussianBlur(im.astype(np.float64), (0, 0), 1.5)

    big = image(seq, 35, (48, 144, 3))
    same = np.abs(big - image(ref_seq, 35)).mean()
    assert same < 0.5 * min(
        np.abs(big - image(ref_seq, i)).mean() for i in (32, 38))
    files, ref = _files(wide), _files(root)
    assert sorted(files) == sorted(ref)
    changed = sorted(k for k in files if files[k] != ref[k])
    assert changed and all(
        k.startswith(osp.join('sequences', '00', 'image_2'))
        or k.endswith('calib.txt') or k.endswith('calib_cam_to_cam.txt')
        for k in changed), changed


def test_parallel_sequences_write_the_same_sample(tmp_path, monkeypatch):
    """``nproc`` writes the sequences in processes of their own, two of
    them drives of the same date (one shared calibration), and the sample
    is the same to the byte."""
    tiny = HARD_PRESETS['hard-tiny']
    plans = dict(tiny['sequences'])
    plans['04'] = dict(frames=30, failures=('corridor', ))
    plans['05'] = dict(frames=30, failures=('blur', ))
    monkeypatch.setitem(HARD_PRESETS, 'hard-tiny', dict(tiny, sequences=plans))
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    serial = generate_hard_sample(one, preset='hard-tiny')
    parallel = generate_hard_sample(two, preset='hard-tiny', nproc=3)
    assert list(parallel['sequences']) == ['00', '04', '05']
    assert parallel['sequences'] == serial['sequences']
    files = _files(two)
    assert osp.join('raw', '2011_09_30', 'calib_cam_to_cam.txt') in files
    assert files == _files(one)
