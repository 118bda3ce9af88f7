import json
import os.path as osp

import mmengine
import numpy as np
import pytest
from kitti_odom_layout import (FRAME_DT, N_FRAMES, R_IMU_VELO, TR,
                               add_sequence_without_raw, run_tool)

from projects.trimodal_odom.trimodal_odom.converters import (
    convert_sequence, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import load_poses


def test_convert_real_frames_extract_imu_frame(real_kitti):
    info = convert_sequence(real_kitti, '00', imu_frame='imu')
    assert info['metainfo']['num_frames'] == N_FRAMES
    assert info['metainfo']['imu']['available']
    frames = info['data_list']
    assert frames[1]['img_path'] == 'sequences/00/image_2/000001.png'
    assert frames[1]['lidar_path'] == 'sequences/00/velodyne/000001.bin'
    poses = load_poses(osp.join(real_kitti, 'poses', '00.txt'))
    np.testing.assert_array_equal(np.array(frames[3]['pose']), poses[3])
    assert frames[-1]['imu'] is None  # no following frame
    for i, frame in enumerate(frames[:-1]):
        imu = frame['imu']
        # 100 Hz grid from this frame's time up to (excluding) the next.
        t0, t1 = frame['timestamp'], frames[i + 1]['timestamp']
        np.testing.assert_allclose(t1 - t0, FRAME_DT[i], atol=1e-6)
        np.testing.assert_allclose(imu['time'][0], t0, atol=1e-9)
        assert len(imu['time']) == int(np.ceil(FRAME_DT[i] * 100))
        assert imu['time'][-1] < t1
        # Interpolated channels of the linear-in-time packets.
        np.testing.assert_allclose(
            imu['acc'][:, 0], 0.5 * imu['time'], atol=1e-5)
        np.testing.assert_allclose(
            imu['gyro'][:, 2], 0.3 * imu['time'], atol=1e-5)
    calib = info['metainfo']['calib']
    np.testing.assert_allclose(np.array(calib['Tr'])[:3].ravel(), TR)


def test_convert_lidar_frame_rotates_with_raw_calib(real_kitti):
    imu = convert_sequence(real_kitti, '00', imu_frame='imu')
    lidar = convert_sequence(real_kitti, '00', imu_frame='lidar')
    R = np.array(R_IMU_VELO).reshape(3, 3)
    a, b = imu['data_list'][2]['imu'], lidar['data_list'][2]['imu']
    np.testing.assert_allclose(b['acc'], a['acc'] @ R.T, atol=1e-9)
    np.testing.assert_allclose(b['gyro'], a['gyro'] @ R.T, atol=1e-9)


def test_convert_sync_source(real_kitti):
    info = convert_sequence(
        real_kitti, '00', imu_source='sync', imu_frame='imu')
    imu = info['data_list'][4]['imu']
    t4 = sum(FRAME_DT[:4])
    assert imu['time'].tolist() == [pytest.approx(t4)]
    # sync packet 4 was stamped on time (even index)
    np.testing.assert_allclose(imu['acc'][0, 0], 0.5 * t4, atol=1e-9)


def test_converter_tool_writes_infos_and_stats(real_kitti, tmp_path,
                                               monkeypatch):
    out = tmp_path / 'infos'
    rc = run_tool('tools/dataset_converters/kitti_odom_converter.py', [
        real_kitti, '--sequences', '0', '--imu-source', 'extract', '--out-dir',
        str(out)
    ], monkeypatch)
    assert rc == 0
    info = mmengine.load(str(out / 'kitti_odom_infos_00.pkl'))
    assert len(info['data_list']) == N_FRAMES
    assert info['metainfo']['imu']['frame'] == 'lidar'
    stats = json.load(open(out / 'imu_stats.json'))
    values = np.concatenate([
        np.concatenate([f['imu']['acc'], f['imu']['gyro']], 1)
        for f in info['data_list'][:-1]
    ])
    np.testing.assert_allclose(stats['mean'], values.mean(0), rtol=1e-9)
    np.testing.assert_allclose(
        stats['std'], np.maximum(values.std(0), 1e-6), rtol=1e-9)
    assert stats['num_samples'] == len(values)


def test_sequence_without_raw_is_counted(real_kitti):
    # Sequence 03 has no raw drive: IMU missing, said so and counted.
    add_sequence_without_raw(real_kitti)
    report, written = create_kitti_odom_infos(real_kitti, sequences='0,3')
    assert report.counts['sequences without raw IMU data'] == 1
    assert any('sequence 03' in str(w) and 'no raw data' in str(w)
               for w in report.warnings)
    info = mmengine.load(
        osp.join(real_kitti, 'infos', 'kitti_odom_infos_03.pkl'))
    assert not info['metainfo']['imu']['available']
    assert all(f['imu'] is None for f in info['data_list'])
    # IMU statistics only come from the sequence that has IMU.
    stats = json.load(open(osp.join(real_kitti, 'infos', 'imu_stats.json')))
    assert stats['sequences'] == ['00']
