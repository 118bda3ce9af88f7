import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.converters import \
    create_kitti_odom_infos
from projects.trimodal_odom.trimodal_odom.datasets import (
    KittiOdometryDataset, LoadOdomPoints, NormalizeOdomIMU,
    OdomGlobalYawRotation, OdomPointSample, odom_collate)
from projects.trimodal_odom.trimodal_odom.models.data_preprocessors import \
    OdometryDataPreprocessor
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import load_poses
from projects.trimodal_odom.trimodal_odom.utils.se3 import (compose_relative,
                                                            se3_inverse)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CFG = osp.join(REPO, 'configs', 'trimodal_odom', '_base_', 'datasets',
               'kitti_odom_sample.py')


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    """The generated tiny sample with 00 and 03 (no raw data), converted."""
    init_default_scope('mmdet3d')
    root = str(tmp_path_factory.mktemp('kitti_sample'))
    generate_kitti_sample(root, preset='tiny', sequences=('00', '03'))
    create_kitti_odom_infos(root)
    return root


def _cfg_dataset(root, pipeline_name='train_pipeline'):
    init_default_scope('mmdet3d')
    cfg = Config.fromfile(CFG)
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.pop('type')
    ds_cfg.update(data_root=root, sequences='00,03')
    pipeline = copy.deepcopy(cfg[pipeline_name])
    for t in pipeline:
        if t['type'] == 'NormalizeOdomIMU':
            t['stats_file'] = osp.join(root, 'infos', 'imu_stats.json')
    ds_cfg['pipeline'] = pipeline
    return cfg, ds_cfg


def test_sample_targets_recompose_trajectory(sample):
    ds = KittiOdometryDataset(sample, sequences='00', pipeline=[])
    poses = load_poses(osp.join(sample, 'poses', '00.txt'))
    rel = np.stack([ds.get_data_info(i)['gt_pose'] for i in range(len(ds))])
    np.testing.assert_allclose(
        compose_relative(poses[0], rel), poses, rtol=0, atol=1e-9)
    # float32 targets of the packed samples recompose within float32 error
    packed = KittiOdometryDataset(
        sample, sequences='00', pipeline=[dict(type='PackOdomInputs')])
    rel32 = np.stack([
        packed[i]['data_samples'].gt_pose.double().numpy()
        for i in range(len(packed))
    ])
    np.testing.assert_allclose(
        compose_relative(poses[0], rel32), poses, atol=1e-4)


def _kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rigid T (4, 4) with dst = T src for corresponding points (N, 3)."""
    cs, cd = src.mean(0), dst.mean(0)
    U, _, Vt = np.linalg.svd((src - cs).T @ (dst - cd))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T))])
    R = Vt.T @ D @ U.T
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, cd - R @ cs
    return T


@pytest.mark.parametrize('imu_frame', ['lidar', 'imu', 'camera'])
def test_yaw_rotation_keeps_target_consistent(sample, tmp_path, imu_frame):
    info = KittiOdometryDataset(
        sample, sequences='00', pipeline=[]).get_data_info(3)
    Tr, T_cam = info['Tr'], info['gt_pose']
    # Frame t+k cloud from the sample; frame t cloud = the same points
    # seen after the true LiDAR motion: p_t = T_L p_{t+k}.
    T_L = se3_inverse(Tr) @ T_cam @ Tr
    pts_b = LoadOdomPoints()(dict(lidar_paths=info['lidar_paths'][1:] *
                                  2))['points'][0].tensor.numpy()
    pts_a = pts_b.copy()
    pts_a[:, :3] = pts_b[:, :3] @ T_L[:3, :3].T + T_L[:3, 3]
    paths = [str(tmp_path / 'a.bin'), str(tmp_path / 'b.bin')]
    pts_a.astype(np.float32).tofile(paths[0])
    pts_b.astype(np.float32).tofile(paths[1])
    results = LoadOdomPoints()(dict(lidar_paths=paths))
    imu = info['imu'].copy()
    results.update(
        gt_pose=T_cam.copy(),
        Tr=Tr,
        imu=imu,
        imu_frame=imu_frame,
        T_velo_imu=info['T_velo_imu'])
    np.random.seed(3)
    out = OdomGlobalYawRotation(rot_range=(0.3, 0.6))(results)
    a, b = (c.tensor.numpy().astype(np.float64)[:, :3] for c in out['points'])
    # Target recomputed from the rotated clouds' true motion.
    T_L_rot = _kabsch(b, a)
    np.testing.assert_allclose(
        Tr @ T_L_rot @ se3_inverse(Tr), out['gt_pose'], atol=2e-4)
    assert not np.allclose(out['gt_pose'], T_cam, atol=1e-3)
    # The IMU vectors follow the rotation: expressed in the LiDAR frame,
    # they are rotated by R_z whatever frame they are stored in.
    angle = out['yaw_rotation']
    R_z = np.array([[np.cos(angle), -np.sin(angle), 0],
                    [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    to_lidar = {
        'lidar': np.eye(3),
        'imu': info['T_velo_imu'][:3, :3],
        'camera': Tr[:3, :3].T
    }[imu_frame]
    for cols in (slice(1, 4), slice(4, 7)):
        np.testing.assert_allclose(
            out['imu'][:, cols] @ to_lidar.T,
            imu[:, cols] @ to_lidar.T @ R_z.T,
            atol=1e-4)


def test_yaw_rotation_camera_policy(sample):
    base = KittiOdometryDataset(
        sample,
        sequences='00',
        pipeline=[dict(type='LoadOdomImages'),
                  dict(type='LoadOdomPoints')])[0]
    with pytest.raises(ValueError, match='images cannot follow'):
        OdomGlobalYawRotation()(copy.deepcopy(base))
    out = OdomGlobalYawRotation(camera='drop')(copy.deepcopy(base))
    assert out['camera_valid'] is False


def test_point_sample_without_replacement_and_padding(sample):
    results = LoadOdomPoints()(
        dict(
            lidar_paths=KittiOdometryDataset(
                sample, sequences='00', pipeline=[]).get_data_info(0)
            ['lidar_paths']))
    n = len(results['points'][0])
    out = OdomPointSample(n // 2)(copy.deepcopy(results))
    rows = out['points'][0].tensor.numpy()
    assert len(np.unique(rows, axis=0)) == n // 2 and all(
        m.all() for m in out['points_mask'])
    det = [
        OdomPointSample(n // 2, deterministic=True)(
            copy.deepcopy(results))['points'][0].tensor for _ in range(2)
    ]
    assert torch.equal(det[0], det[1])
    padded = OdomPointSample(n + 10)(copy.deepcopy(results))
    assert padded['points'][0].tensor.shape[0] == n + 10
    assert padded['points_mask'][0].sum() == n
    assert torch.all(padded['points'][0].tensor[n:] == 0)


def test_normalize_imu_checks_stats(sample, tmp_path):
    with pytest.raises(
            Exception, match='imu_stats.json: IMU statistics '
            'not found'):
        NormalizeOdomIMU(stats_file=str(tmp_path / 'imu_stats.json'))
    norm = NormalizeOdomIMU(
        stats_file=osp.join(sample, 'infos', 'imu_stats.json'))
    info = KittiOdometryDataset(
        sample, sequences='00', pipeline=[]).get_data_info(0)
    out = norm(dict(imu=info['imu'], imu_frame='lidar'))
    np.testing.assert_allclose(
        out['imu'][:, 1:], (info['imu'][:, 1:] - norm.mean) / norm.std,
        rtol=1e-6)
    with pytest.raises(ValueError, match="in the 'lidar' frame"):
        norm(dict(imu=info['imu'], imu_frame='camera'))


@pytest.mark.parametrize('sampled', [True, False])
def test_batch_of_four_through_config_pipeline(sample, sampled):
    from mmdet3d.registry import DATASETS, MODELS
    cfg, ds_cfg = _cfg_dataset(sample)
    if not sampled:  # clouds keep their (different) sizes
        ds_cfg['pipeline'] = [
            t for t in ds_cfg['pipeline'] if t['type'] != 'OdomPointSample'
        ]
    ds = DATASETS.build(dict(type='KittiOdometryDataset', **ds_cfg))
    # two samples of 00 (IMU) and two of 03 (no raw data, no IMU)
    idx = [0, 5, len(ds) - 1, len(ds) - 4]
    batch = odom_collate([ds[i] for i in idx])
    pre = MODELS.build(cfg.data_preprocessor)
    assert isinstance(pre, OdometryDataPreprocessor)
    out = pre(batch, training=True)
    inputs = out['inputs']
    sizes = [[len(p) for p in s['points']] for s in batch['inputs']]
    lens = [len(s['imu']) for s in batch['inputs']]
    n_pts = max(max(s) for s in sizes)
    if not sampled:
        assert len({x for s in sizes for x in s}) > 1
    assert len(set(lens)) > 1 and lens[2] == 0
    assert inputs['imgs'].shape == (4, 2, 3, 96, 320)
    assert inputs['imgs'].dtype == torch.float32
    assert inputs['points'].shape == (4, 2, n_pts, 4)
    assert inputs['imu'].shape == (4, max(lens), 6)
    for i in range(4):
        for j in range(2):
            assert inputs['points_mask'][
                i, j].sum() == batch['inputs'][i]['points_mask'][j].sum()
        assert inputs['imu_mask'][i].sum() == lens[i]
    assert not inputs['points'][~inputs['points_mask']].any()
    assert not inputs['imu'][~inputs['imu_mask']].any()
    assert inputs['modality_mask'][:, 1].all()
    assert inputs['modality_mask'][:, 2].tolist() == [True, True, False, False]
    assert len(out['data_samples']) == 4
    assert out['data_samples'][2].seq == '03'
    assert out['data_samples'][0].gt_pose.dtype == torch.float32
