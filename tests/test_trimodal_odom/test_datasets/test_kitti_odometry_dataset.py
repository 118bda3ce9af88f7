import os
import os.path as osp
import re

import mmengine
import numpy as np
import pytest
from kitti_odom_layout import add_sequence_without_raw
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.converters import \
    create_kitti_odom_infos
from projects.trimodal_odom.trimodal_odom.datasets import KittiOdometryDataset
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (
    KittiFormatError, load_poses)
from projects.trimodal_odom.trimodal_odom.utils.se3 import compose_relative


@pytest.fixture
def converted(real_kitti):
    """The real-frame layout with sequences 00 and 03 (no raw) converted."""
    add_sequence_without_raw(real_kitti)
    create_kitti_odom_infos(real_kitti, sequences='00,03')
    return real_kitti


@pytest.mark.parametrize('sequences', ['00', '0', [0], ['00'], 0])
def test_targets_recompose_trajectory(converted, sequences):
    ds = KittiOdometryDataset(converted, sequences=sequences)
    poses = load_poses(osp.join(converted, 'poses', '00.txt'))
    assert len(ds) == len(poses) - 1
    rel = np.stack([ds.get_data_info(i)['gt_pose'] for i in range(len(ds))])
    np.testing.assert_allclose(
        compose_relative(poses[0], rel), poses, rtol=0, atol=1e-9)


def test_frame_gap_and_imu_window(converted):
    ds = KittiOdometryDataset(
        converted, sequences='00', frame_gap=2, frame_stride=2)
    poses = load_poses(osp.join(converted, 'poses', '00.txt'))
    rel = np.stack([ds.get_data_info(i)['gt_pose'] for i in range(len(ds))])
    np.testing.assert_allclose(
        compose_relative(poses[0], rel), poses[::2], atol=1e-9)
    info = ds.get_data_info(1)
    assert info['frame_ids'] == (2, 4)
    # Window = the 100 Hz samples of intervals 2-3 and 3-4.
    t = info['imu'][:, 0]
    assert t[0] == pytest.approx(info['times'][0])
    assert t[-1] < info['times'][1]
    assert np.all(np.diff(t) > 0) and info['has_imu']
    assert len(t) == 12 + 11


def test_imu_max_len_resamples_and_counts(converted):
    ds = KittiOdometryDataset(converted, sequences='00', imu_max_len=8)
    info = ds.get_data_info(0)
    assert info['imu'].shape == (8, 7)
    # windows of 11, 10, 12, 11 and 8 samples: four are longer than 8
    assert ds.report.counts['IMU windows resampled to imu_max_len=8'] == 4


def test_imu_missing_policies(converted):
    zero = KittiOdometryDataset(converted, sequences='00,03')
    assert len(zero) == 10
    info = zero.get_data_info(7)
    assert info['seq'] == '03' and not info['has_imu']
    assert info['imu'].shape == (0, 7)
    assert zero.report.counts['sequences without IMU (has_imu False)'] == 1
    drop = KittiOdometryDataset(
        converted, sequences='00,03', imu_missing='drop')
    assert len(drop) == 5
    assert drop.report.counts['sequences dropped (no IMU)'] == 1
    with pytest.raises(KittiFormatError, match='sequence 03 has no IMU'):
        KittiOdometryDataset(converted, sequences='3', imu_missing='error')
    no_imu = KittiOdometryDataset(
        converted,
        sequences='3',
        imu_missing='error',
        modality=dict(use_imu=False))
    assert len(no_imu) == 5


def test_missing_sequence_and_info_file(converted):
    searched = osp.join(converted, 'sequences', '05')
    with pytest.raises(
            KittiFormatError,
            match=f'sequence 05 not found: searched {searched}'):
        KittiOdometryDataset(converted, sequences='00,05')
    os.remove(osp.join(converted, 'infos', 'kitti_odom_infos_03.pkl'))
    with pytest.raises(
            KittiFormatError,
            match='kitti_odom_infos_03.pkl: info file of '
            'sequence 03 not found'):
        KittiOdometryDataset(converted, sequences='03')


def test_files_checked_at_load(converted):
    img = osp.join(converted, 'sequences', '00', 'image_2', '000002.png')
    pts = osp.join(converted, 'sequences', '00', 'velodyne', '000004.bin')
    os.remove(img)
    with open(pts, 'ab') as f:
        f.write(b'\0' * 4)
    with pytest.raises(KittiFormatError) as err:
        KittiOdometryDataset(converted, sequences='00')
    msg = str(err.value)
    assert f'{img}: image missing' in msg
    assert f'{pts}: 12804 bytes is not a multiple of 16' in msg
    # Without the camera the missing image does not matter.
    os.remove(pts)
    with pytest.raises(KittiFormatError, match=f'{pts}: point cloud missing'):
        KittiOdometryDataset(
            converted, sequences='00', modality=dict(use_camera=False))


@pytest.mark.parametrize('field', ['imu', 'pose'])
def test_non_finite_values_of_an_info_file_are_refused_at_load(
        converted, field):
    """The values the model gets are checked where they are loaded (the
    point clouds by LoadOdomPoints, the IMU and poses here), not in the
    model's forward."""
    path = osp.join(converted, 'infos', 'kitti_odom_infos_00.pkl')
    info = mmengine.load(path)
    frame = info['data_list'][2]
    if field == 'imu':
        frame['imu']['gyro'][1, 2] = np.nan
        message = r'NaN or inf in the IMU of frames 2\.\.3'
    else:
        frame['pose'][1][3] = np.inf
        message = 'NaN or inf in the poses of sequence 00'
    mmengine.dump(info, path)
    with pytest.raises(
            KittiFormatError,
            match=rf'{re.escape(path)}: {message} \[non_finite\]'):
        KittiOdometryDataset(converted, sequences='00')


def test_sequence_without_poses(real_kitti):
    """A sequence without pose file (as KITTI 11-21) converts with a
    warning; the dataset refuses it unless ``allow_unlabelled``, then its
    packed samples have no ``gt_pose`` but the calibration."""
    add_sequence_without_raw(real_kitti)
    os.remove(osp.join(real_kitti, 'poses', '03.txt'))
    report, _ = create_kitti_odom_infos(real_kitti, sequences='00,03')
    assert any('03 has no ground-truth poses' in str(w)
               for w in report.warnings)
    info = mmengine.load(
        osp.join(real_kitti, 'infos', 'kitti_odom_infos_03.pkl'))
    assert info['metainfo']['has_poses'] is False
    assert all(f['pose'] is None for f in info['data_list'])
    with pytest.raises(KittiFormatError, match='allow_unlabelled=True'):
        KittiOdometryDataset(real_kitti, sequences='03', test_mode=True)
    init_default_scope('mmdet3d')
    pipeline = [dict(type='PackOdomInputs')]
    ds = KittiOdometryDataset(
        real_kitti,
        sequences='00,03',
        allow_unlabelled=True,
        pipeline=pipeline,
        modality=dict(use_camera=False, use_lidar=False),
        test_mode=True)
    seqs = [ds.get_data_info(i)['seq'] for i in range(len(ds))]
    first = seqs.index('03')
    assert ds.get_data_info(first)['gt_pose'] is None
    assert ds.get_data_info(0)['gt_pose'].shape == (4, 4)
    packed = ds[first]['data_samples']
    assert 'gt_pose' not in packed
    assert packed.P2.shape == (3, 4) and packed.Tr.shape == (4, 4)
    assert 'gt_pose' in ds[0]['data_samples']
