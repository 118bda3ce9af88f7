import datetime
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.converters.oxts_io import (
    OXTS_FIELDS, load_oxts_packets, load_oxts_timestamps, load_raw_calib,
    load_raw_rigid, oxts_to_poses, save_oxts)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (
    KittiFormatError, load_calib, load_poses, load_times, load_velodyne,
    save_poses)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')
# a packet as found in KITTI raw 2011_10_03_drive_0027 (values rounded)
PACKET = ('49.011212804408 8.4228850417969 112.83492279053 0.022447 1e-05 '
          '-1.2219096732051 -3.3256321640686 1.1384311814592 3.5147680214713 '
          '0.037625160413037 -0.03878884255623 -0.29437452763793 '
          '0.037166856911681 9.9957015129717 -0.30581030960531 '
          '-0.19635662515203 9.9942128010936 -0.017332142869546 '
          '0.024792163815438 0.14511808479348 -0.017498934149631 '
          '0.021393359392165 0.14563031426063 0.49229361157748 '
          '0.068883960397178 4 10 4 4 0')


def _write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def test_poses_round_trip(tmp_path):
    poses = load_poses(osp.join(DATA, '00.txt'))
    assert poses.shape == (4541, 4, 4)
    np.testing.assert_array_equal(poses[:, 3], [[0, 0, 0, 1]] * len(poses))
    path = str(tmp_path / 'poses.txt')
    save_poses(path, poses[:50])
    np.testing.assert_allclose(load_poses(path), poses[:50], atol=1e-9)


@pytest.mark.parametrize('line,problem', [
    ('1 0 0 0 0 1 0 0 0 0 1', 'expected 12 values, got 11'),
    ('1 0 0 0 0 1 0 x 0 0 1 0', 'not a number'),
    ('1 0 0 0 0 1 0 nan 0 0 1 0', 'NaN'),
])
def test_poses_errors_name_file_and_line(tmp_path, line, problem):
    path = _write(
        str(tmp_path / '00.txt'), '1 0 0 0 0 1 0 0 0 0 1 0\n' + line + '\n')
    with pytest.raises(KittiFormatError, match=f'00.txt:2: {problem}'):
        load_poses(path)
    with pytest.raises(KittiFormatError, match='missing.txt: file not'):
        load_poses(str(tmp_path / 'missing.txt'))


def test_times_and_calib_errors(tmp_path):
    path = _write(str(tmp_path / 'times.txt'), '0.0\n0.1\n0.1\n')
    with pytest.raises(KittiFormatError, match='times.txt:3: .*increase'):
        load_times(path)
    good = ' '.join(['0'] * 12)
    path = _write(
        str(tmp_path / 'calib.txt'),
        ''.join(f'P{i}: {good}\n' for i in range(4)))
    with pytest.raises(KittiFormatError, match='calib.txt: .*Tr missing'):
        load_calib(path)
    _write(path, f'P0: {good}\nP1: 1 2\n')
    with pytest.raises(KittiFormatError, match='calib.txt:2: P1 needs 12'):
        load_calib(path)


def test_velodyne_reader(tmp_path):
    points = load_velodyne(osp.join(DATA, 'real_frames', '000000.bin'))
    assert points.shape == (800, 4) and points.dtype == np.float32
    path = str(tmp_path / '000000.bin')
    points[:10].tofile(path)
    with open(path, 'ab') as f:
        f.write(b'\0' * 4)
    with pytest.raises(KittiFormatError, match='000000.bin: 164 bytes'):
        load_velodyne(path)
    bad = points[:10].copy()
    bad[3, 1] = np.nan
    bad.tofile(path)
    with pytest.raises(KittiFormatError, match='000000.bin: 1 points'):
        load_velodyne(path)


def test_oxts_folder_and_file(tmp_path):
    oxts = str(tmp_path / 'oxts')
    for i in range(3):
        _write(osp.join(oxts, 'data', f'{i:010d}.txt'), PACKET + '\n')
    packets = load_oxts_packets(oxts)
    assert packets.shape == (3, 30) and packets.dtype == np.float64
    assert packets[0, OXTS_FIELDS.index('az')] == pytest.approx(9.9957015)
    np.testing.assert_array_equal(
        load_oxts_packets(osp.join(oxts, 'data')), packets)
    one = _write(str(tmp_path / 'packets.txt'), (PACKET + '\n') * 2)
    np.testing.assert_array_equal(load_oxts_packets(one), packets[:2])


@pytest.mark.parametrize('line,problem', [
    (PACKET.rsplit(' ', 1)[0], 'expected 30 OXTS values, got 29'),
    (PACKET.replace('112.83', 'abc'), 'not a number'),
    (PACKET.replace('112.83492279053', 'nan'), "NaN or inf in 'alt'"),
])
def test_oxts_errors_name_file_and_line(tmp_path, line, problem):
    path = _write(str(tmp_path / 'oxts.txt'), f'{PACKET}\n\n{line}\n')
    with pytest.raises(KittiFormatError, match=f'oxts.txt:3: {problem}'):
        load_oxts_packets(path)
    data = str(tmp_path / 'data')
    _write(osp.join(data, '0000000000.txt'), PACKET + '\n')
    _write(osp.join(data, '0000000001.txt'), line + '\n')
    with pytest.raises(KittiFormatError, match=f'0000000001.txt:1: {problem}'):
        load_oxts_packets(data)


def test_oxts_folder_errors(tmp_path):
    data = str(tmp_path / 'data')
    _write(osp.join(data, '0000000000.txt'), PACKET + '\n')
    _write(osp.join(data, '0000000002.txt'), PACKET + '\n')
    with pytest.raises(KittiFormatError, match='0000000001.txt: missing'):
        load_oxts_packets(data)
    _write(osp.join(data, '0000000001.txt'), (PACKET + '\n') * 2)
    with pytest.raises(KittiFormatError, match='0000000001.txt: expected one'):
        load_oxts_packets(data)
    shutil.rmtree(data)
    os.makedirs(data)
    with pytest.raises(KittiFormatError, match='no NNNNNNNNNN.txt'):
        load_oxts_packets(data)


def test_oxts_timestamps(tmp_path):
    path = _write(
        str(tmp_path / 'timestamps.txt'), '2011-10-03 12:55:34.512345678\n'
        '2011-10-03 12:55:34.522345678\n2011-10-03 12:55:35.000000000\n')
    times = load_oxts_timestamps(path)
    expected = datetime.datetime(
        2011, 10, 3, 12, 55, 34,
        tzinfo=datetime.timezone.utc).timestamp() + 0.512345678
    assert times[0] == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(np.diff(times), [0.01, 0.477654322], atol=1e-6)
    _write(path, '2011-10-03 12:55:34.5\n2011-10-03 25:55:34.5\n')
    with pytest.raises(KittiFormatError, match='timestamps.txt:2: expected'):
        load_oxts_timestamps(path)


def test_save_oxts_round_trip(tmp_path):
    packets = np.tile(
        load_oxts_packets(_write(str(tmp_path / 'p.txt'), PACKET)), (4, 1))
    packets[:, 0] += np.arange(4) * 1e-5
    origin = datetime.datetime(2011, 9, 30, 12, 0, 59, 999000)
    save_oxts(
        str(tmp_path / 'oxts'), packets, [0, 0.1, 0.2, 0.30000001], origin)
    np.testing.assert_allclose(
        load_oxts_packets(str(tmp_path / 'oxts')), packets, rtol=1e-13)
    lines = open(tmp_path / 'oxts' / 'timestamps.txt').read().split('\n')
    assert lines[:4] == [
        '2011-09-30 12:00:59.999000000', '2011-09-30 12:01:00.099000000',
        '2011-09-30 12:01:00.199000000', '2011-09-30 12:01:00.299000010'
    ]
    fields = open(tmp_path / 'oxts' / 'dataformat.txt').read().split('\n')
    assert [s.split(':')[0] for s in fields if s] == list(OXTS_FIELDS)


def test_oxts_to_poses_mercator():
    lat0 = 49.0
    packets = np.zeros((2, 30))
    packets[:, 0] = [lat0, lat0 + 0.001]
    packets[:, 1] = 8.4
    packets[:, 2] = [100.0, 101.5]
    north = 6378137.0 * np.deg2rad(0.001)  # metric near lat0
    poses = oxts_to_poses(packets)
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(poses[1, :3, 3], [0, north, 1.5], atol=0.01)
    packets[:, 5] = np.pi / 2  # heading north: north is the IMU's x
    poses = oxts_to_poses(packets)
    np.testing.assert_allclose(poses[1, :3, 3], [north, 0, 1.5], atol=0.01)
    packets[1, 3:6] = [0.1, -0.2, 0.3]
    R = oxts_to_poses(packets, relative=False)[1, :3, :3]
    cr, sr, cp, sp, cy, sy = (np.cos(0.1), np.sin(0.1), np.cos(-0.2),
                              np.sin(-0.2), np.cos(0.3), np.sin(0.3))
    Rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    Ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    Rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    np.testing.assert_allclose(R, Rz @ Ry @ Rx, atol=1e-12)


def test_raw_calib(tmp_path):
    path = _write(
        str(tmp_path / 'calib_imu_to_velo.txt'),
        'calib_time: 25-May-2012 16:47:16\n'
        'R: 9.999976e-01 7.553071e-04 -2.035826e-03 -7.854027e-04 '
        '9.998898e-01 -1.482298e-02 2.024406e-03 1.482454e-02 9.998881e-01\n'
        'T: -8.086759e-01 3.195559e-01 -7.997231e-01\n')
    calib = load_raw_calib(path)
    assert calib['calib_time'] == '25-May-2012 16:47:16'
    assert calib['R'].shape == (9, ) and calib['T'].shape == (3, )
    T = load_raw_rigid(path)
    np.testing.assert_allclose(T[:3, 3], [-0.8086759, 0.3195559, -0.7997231])
    np.testing.assert_allclose(T[:3, :3], calib['R'].reshape(3, 3))
    _write(path, 'R: 1 0 0 0 1 0 0 0 1\nT: 0 0\n')
    with pytest.raises(
            KittiFormatError,
            match='imu_to_velo.txt: T needs 3 values, got 2'):
        load_raw_rigid(path)
    _write(path, 'R: 1 0 0 0 1 0 0 0 1\nT: 0 0 x\n')
    with pytest.raises(KittiFormatError, match='imu_to_velo.txt:2: not a'):
        load_raw_calib(path)
    _write(path, 'R: 1 0 0 0 1 0 0 0 2\nT: 0 0 0\n')
    with pytest.raises(KittiFormatError, match='not a rotation'):
        load_raw_rigid(path)
