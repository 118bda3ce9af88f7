"""The KITTI IMU files as IMU source: converter, IMU-only mode, dataset, and
the frame of the vectors checked against the real ground truth."""
import json
import os
import os.path as osp
import shutil

import mmengine
import numpy as np
import pytest
from kitti_odom_layout import FRAME_DT, N_FRAMES, R_IMU_VELO, TR, run_tool
from scipy.io import loadmat, savemat

from projects.trimodal_odom.trimodal_odom.converters import (
    KITTI_ODOM_TR, check_kitti_integrity, convert_sequence,
    create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.datasets import KittiOdometryDataset
from projects.trimodal_odom.trimodal_odom.utils import (KittiFormatError,
                                                        integrate_gyro,
                                                        load_poses,
                                                        rotation_angle)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')
# Real KITTI IMU and poses of sequence 00, frames 600-1000: two 90-degree
# turns.
FIRST, LAST = 600, 1000
REAL_IMU = osp.join(DATA, 'imus', '00_frames0600-1000.mat')
# Mean frame period of KITTI (the camera and the scanner run at ~9.65 Hz).
FRAME_PERIOD = 0.1036
IMU_ONLY = dict(use_camera=False, use_lidar=False, use_imu=True)


def real_imu_root(root: str) -> str:
    """Poses and IMU of 00, frames 600-1000, and nothing else."""
    os.makedirs(osp.join(root, 'poses'))
    os.makedirs(osp.join(root, 'imus'))
    with open(osp.join(DATA, '00.txt')) as f:
        lines = f.read().splitlines()[FIRST:LAST + 1]
    with open(osp.join(root, 'poses', '00.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    shutil.copy(REAL_IMU, osp.join(root, 'imus', '00.mat'))
    return root


def imu_only_dataset(root: str, frame: str, **kwargs) -> KittiOdometryDataset:
    """Convert ``root`` IMU-only in ``frame`` and open its dataset."""
    create_kitti_odom_infos(
        root,
        imu_source='mat',
        imu_only=True,
        imu_frame=frame,
        frame_period=FRAME_PERIOD,
        **kwargs)
    return KittiOdometryDataset(
        data_root=root, sequences='00', modality=IMU_ONLY, pipeline=[])


def test_imu_only_conversion_needs_poses_and_imu_only(tmp_path):
    root = real_imu_root(str(tmp_path / 'kitti'))
    _, written = create_kitti_odom_infos(
        root,
        imu_source='mat',
        imu_only=True,
        imu_frame='imu',
        frame_period=FRAME_PERIOD)
    info = mmengine.load(written[0])
    meta = info['metainfo']
    assert meta['imu_only'] and meta['num_frames'] == LAST - FIRST + 1
    assert meta['imu']['source'] == 'mat' and meta['imu']['available']
    assert meta['calib']['source'].startswith('published')
    np.testing.assert_array_equal(meta['calib']['Tr'],
                                  KITTI_ODOM_TR['2011_10_03'])
    assert meta['times_source'] == f'frames {FRAME_PERIOD} s apart'
    raw = loadmat(REAL_IMU)['imu_data_interp']
    window = info['data_list'][7]['imu']
    np.testing.assert_array_equal(window['acc'], raw[70:80, :3])
    np.testing.assert_array_equal(window['gyro'], raw[70:80, 3:])
    np.testing.assert_allclose(window['time'],
                               FRAME_PERIOD * (7 + np.arange(10) / 10))
    assert info['data_list'][-1]['imu'] is None
    with open(osp.join(root, 'infos', 'imu_stats.json')) as f:
        stats = json.load(f)
    assert stats['source'] == 'mat' and stats['num_samples'] == 4000


@pytest.mark.parametrize('frame', ['camera', 'lidar', 'imu'])
def test_integrated_gyro_matches_ground_truth_rotation(tmp_path, frame):
    """Frames 600 -> 1000 of 00 (two 90-degree turns): the gyro integrated
    in the converted frame agrees with the ground-truth rotation expressed
    in that frame within 0.5 degrees (measured: 0.15; without the
    IMU -> Velodyne rotation 1.57; the IMU vectors unrotated taken as camera
    vectors 177)."""
    dataset = imu_only_dataset(real_imu_root(str(tmp_path / 'kitti')), frame)
    assert len(dataset) == LAST - FIRST
    R_gyro, R_gt = np.eye(3), np.eye(3)
    for i in range(len(dataset)):
        sample = dataset.get_data_info(i)
        imu = sample['imu']
        assert imu.shape == (10, 7) and sample['imu_frame'] == frame
        dt = (sample['times'][1] - sample['times'][0]) / len(imu)
        R_gyro = R_gyro @ integrate_gyro(imu[:, 4:], dt)
        R_gt = R_gt @ sample['gt_pose'][:3, :3]
    Tr = dataset.get_data_info(0)['Tr']
    R_cam = {
        'camera': np.eye(3),
        'lidar': Tr[:3, :3],
        'imu': Tr[:3, :3] @ dataset.get_data_info(0)['T_velo_imu'][:3, :3]
    }[frame]
    R_gt = R_cam.T @ R_gt @ R_cam  # ground truth in the IMU's frame
    assert np.degrees(rotation_angle(R_gt)) > 170
    assert np.degrees(rotation_angle(R_gyro.T @ R_gt)) < 0.5


def test_imu_only_dataset_refuses_camera_and_lidar(tmp_path):
    root = real_imu_root(str(tmp_path / 'kitti'))
    imu_only_dataset(root, 'camera')
    os.makedirs(osp.join(root, 'sequences', '00'))
    with pytest.raises(
            KittiFormatError,
            match=r'kitti_odom_infos_00.pkl: converted IMU-only'):
        KittiOdometryDataset(
            data_root=root,
            sequences='00',
            modality=dict(use_camera=False, use_lidar=True),
            check_files=False)


def test_imu_only_needs_frame_period_without_times(tmp_path):
    root = real_imu_root(str(tmp_path / 'kitti'))
    with pytest.raises(
            KittiFormatError,
            match=r'sequences/00/times.txt: file not found; '
            'IMU-only conversion without times.txt needs '
            'frame_period'):
        create_kitti_odom_infos(root, imu_source='mat', imu_only=True)


def _imu_file(root: str, rows: np.ndarray) -> str:
    os.makedirs(osp.join(root, 'imus'), exist_ok=True)
    path = osp.join(root, 'imus', '00.mat')
    savemat(path, dict(imu_data_interp=rows))
    return path


def test_mat_source_with_frames_reads_times_and_calibration(real_kitti):
    """With images, scans, calib.txt, times.txt and the raw calibration, the
    mat windows follow times.txt and the raw IMU -> Velodyne rotation."""
    rows = loadmat(REAL_IMU)['imu_data_interp'][:10 * (N_FRAMES - 1) + 1]
    _imu_file(real_kitti, rows)
    info = convert_sequence(
        real_kitti, '00', imu_source='mat', imu_frame='lidar')
    meta = info['metainfo']
    assert not meta['imu_only'] and meta['times_source'] == 'times.txt'
    assert meta['calib']['source'] == 'calib.txt'
    assert meta['imu']['calib_source'].endswith('calib_imu_to_velo.txt')
    np.testing.assert_allclose(np.array(meta['calib']['Tr'])[:3].ravel(), TR)
    R = np.array(R_IMU_VELO).reshape(3, 3)
    times = np.concatenate([[0.0], np.cumsum(FRAME_DT)])
    for k, frame in enumerate(info['data_list'][:-1]):
        imu = frame['imu']
        np.testing.assert_allclose(imu['gyro'],
                                   rows[10 * k:10 * k + 10, 3:] @ R.T)
        np.testing.assert_allclose(
            imu['time'],
            times[k] + FRAME_DT[k] * np.arange(10) / 10,
            atol=1e-6)
    # Samples of the dataset with all modalities and the mat IMU.
    create_kitti_odom_infos(real_kitti, imu_source='mat')
    dataset = KittiOdometryDataset(
        data_root=real_kitti, sequences='00', pipeline=[])
    assert len(dataset) == N_FRAMES - 1
    assert dataset.get_data_info(2)['imu'].shape == (10, 7)


def test_mat_source_errors_name_the_file(real_kitti):
    path = _imu_file(real_kitti, np.zeros((10 * N_FRAMES + 1, 6)))
    with pytest.raises(
            KittiFormatError,
            match=f'{path}: 61 IMU rows, expected 10 \\(N - 1\\) \\+ 1 = 51'):
        create_kitti_odom_infos(real_kitti, imu_source='mat')
    rows = np.zeros((10 * (N_FRAMES - 1) + 1, 6))
    rows[33, 0] = np.inf
    _imu_file(real_kitti, rows)
    with pytest.raises(
            KittiFormatError,
            match=f'{path}: NaN or inf in row 33 \\(frame 3\\)'):
        create_kitti_odom_infos(real_kitti, imu_source='mat')
    assert not osp.exists(osp.join(real_kitti, 'infos'))


def test_mat_source_without_file_marks_imu_missing(real_kitti):
    info = convert_sequence(real_kitti, '00', imu_source='mat')
    imu = info['metainfo']['imu']
    assert not imu['available'] and 'imus/00.mat not found' in \
        imu['missing_reason']
    assert all(f['imu'] is None for f in info['data_list'])


def test_mat_offset_moves_rows_and_drops_uncovered_window(real_kitti):
    rows = loadmat(REAL_IMU)['imu_data_interp'][:10 * (N_FRAMES - 1) + 1]
    _imu_file(real_kitti, rows)
    info = convert_sequence(
        real_kitti, '00', imu_source='mat', imu_frame='imu', imu_offset=6)
    frames = info['data_list']
    np.testing.assert_array_equal(frames[0]['imu']['acc'], rows[6:16, :3])
    assert frames[N_FRAMES - 2]['imu'] is None  # rows 46..55 leave the file
    assert info['metainfo']['imu']['row_offset'] == 6


def test_converter_tool_imu_only(tmp_path, monkeypatch):
    root = real_imu_root(str(tmp_path / 'kitti'))
    code = run_tool('tools/dataset_converters/kitti_odom_converter.py', [
        root, '--imu-source', 'mat', '--imu-only', '--imu-frame', 'camera',
        '--frame-period',
        str(FRAME_PERIOD), '--imu-offset', '6'
    ], monkeypatch)
    assert code == 0
    info = mmengine.load(osp.join(root, 'infos', 'kitti_odom_infos_00.pkl'))
    assert info['metainfo']['imu']['frame'] == 'camera'
    assert info['metainfo']['imu']['row_offset'] == 6
    poses = load_poses(osp.join(root, 'poses', '00.txt'))
    assert info['metainfo']['num_frames'] == len(poses)


def test_integrity_check_imu_only(tmp_path, monkeypatch, capsys):
    """The check reads the layout as the converter does: IMU-only from the
    poses and the IMU files, sequences without IMU file not listed."""
    root = real_imu_root(str(tmp_path / 'kitti'))
    shutil.copy(
        osp.join(root, 'poses', '00.txt'), osp.join(root, 'poses', '03.txt'))
    report, infos = check_kitti_integrity(
        root, imu_source='mat', imu_only=True, frame_period=FRAME_PERIOD)
    assert report.ok and [i['metainfo']['seq'] for i in infos] == ['00']
    kinds = {p.kind for p in report.warnings}
    assert kinds == {'published_calibration', 'nominal_times'}
    tool = 'tools/misc/check_kitti_integrity.py'
    argv = [root, '--imu-source', 'mat', '--imu-only']
    assert run_tool(tool, argv + ['--frame-period', '0.1'], monkeypatch) == 0
    assert 'nominal_times' in capsys.readouterr().out
    # without --frame-period the missing times.txt is an error
    assert run_tool(tool, argv, monkeypatch) == 1
    assert 'sequences/00/times.txt: file not found; IMU-only conversion' in \
        capsys.readouterr().out
    _imu_file(root, np.zeros((20, 6)))
    assert run_tool(tool, argv + ['--frame-period', '0.1'], monkeypatch) == 1
    assert 'imus/00.mat: 20 IMU rows, expected 10 (N - 1) + 1 = 4001' in \
        capsys.readouterr().out
