"""OdomScanRegistration: the ICP prior of a generated KITTI pair matches
its target, also after a yaw rotation of the clouds."""
import numpy as np
import pytest
import torch
from mmdet3d.structures import LiDARPoints
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.converters import \
    create_kitti_odom_infos
from projects.trimodal_odom.trimodal_odom.datasets import (
    KittiOdometryDataset, OdomScanRegistration)
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils.se3 import pose_to_vector


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    init_default_scope('mmdet3d')
    root = str(tmp_path_factory.mktemp('kitti_sample'))
    generate_kitti_sample(root, preset='tiny', sequences=('00', ))
    create_kitti_odom_infos(root)
    return root


def pipeline(rotate: bool) -> list:
    steps = [
        dict(type='LoadOdomPoints', coord_type='LIDAR', load_dim=4, use_dim=4),
        dict(
            type='OdomPointsRangeFilter',
            point_cloud_range=[-40.0, -40.0, -3.0, 40.0, 40.0, 3.0])
    ]
    if rotate:
        steps.append(dict(type='OdomGlobalYawRotation', rot_range=(0.2, 0.4)))
    return steps + [dict(type='OdomScanRegistration')]


@pytest.mark.parametrize('rotate', [False, True])
def test_prior_matches_the_target(sample, rotate):
    ds = KittiOdometryDataset(
        sample, sequences='00', pipeline=pipeline(rotate), test_mode=True)
    np.random.seed(0)
    for i in (0, 5, 10):
        out = ds[i]
        assert out['reg_info']['converged']
        prior = out['reg_prior']
        assert prior.dtype == np.float32 and prior.shape == (6, )
        target = pose_to_vector(out['gt_pose'])
        # the frames are about 0.7 m apart; the 16-beam tiny scans
        # register to centimetres
        assert np.linalg.norm(prior[:3] - target[:3]) < 0.03, (i, prior,
                                                               target)
        assert np.degrees(np.linalg.norm(prior[3:] - target[3:])) < 0.2
        if rotate:
            assert 'yaw_rotation' in out


def test_failed_registration_leaves_no_prior():
    rng = np.random.default_rng(0)
    cloud = np.c_[rng.uniform(-20, 20, (500, 3)), np.zeros(500)]
    far = cloud + np.array([500.0, 0.0, 0.0, 0.0])
    results = dict(
        points=[
            LiDARPoints(torch.from_numpy(cloud).float(), points_dim=4),
            LiDARPoints(torch.from_numpy(far).float(), points_dim=4)
        ],
        Tr=np.eye(4),
        seq='00',
        frame_ids=(3, 4))
    out = OdomScanRegistration()(results)
    assert 'reg_prior' not in out
    assert not out['reg_info']['converged']


def test_bad_clouds_name_the_sample():
    cloud = LiDARPoints(torch.zeros(3, 4), points_dim=4)
    results = dict(
        points=[cloud, cloud], Tr=np.eye(4), seq='07', frame_ids=(1, 2))
    with pytest.raises(ValueError, match=r'sequence 07 frames \(1, 2\)'):
        OdomScanRegistration(min_range=0.0)(results)
    with pytest.raises(ValueError, match='needs two clouds'):
        OdomScanRegistration()(dict(points=[cloud], Tr=np.eye(4)))
    with pytest.raises(ValueError, match='max_dist'):
        OdomScanRegistration(max_dist=(0.1, 1.0))
    # no LiDAR: passed through
    assert list(OdomScanRegistration()(dict(Tr=np.eye(4)))) == ['Tr']
