"""OdomScanRegistration: the prior of a generated KITTI pair matches its
target, read from the cache or registered on the fly, also after a yaw
rotation of the clouds."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet3d.structures import LiDARPoints
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.converters import (
    build_reg_prior_cache, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.datasets import (
    KittiOdometryDataset, OdomScanRegistration, rotate_relative_pose,
    yaw_matrix)
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils.se3 import (make_pose,
                                                            pose_to_vector,
                                                            se3_inverse,
                                                            so3_exp)


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    init_default_scope('mmdet3d')
    root = str(tmp_path_factory.mktemp('kitti_sample'))
    generate_kitti_sample(root, preset='tiny', sequences=('00', ))
    create_kitti_odom_infos(root)
    build_reg_prior_cache(root)
    return root


def pipeline(root,
             rotate=False,
             cached=True,
             crop=True,
             before=(),
             quality=False):
    steps = [
        dict(type='LoadOdomPoints', coord_type='LIDAR', load_dim=4, use_dim=4)
    ]
    if crop:
        steps.append(
            dict(
                type='OdomPointsRangeFilter',
                point_cloud_range=[-40.0, -40.0, -3.0, 40.0, 40.0, 3.0]))
    if rotate:
        steps.append(dict(type='OdomGlobalYawRotation', rot_range=(0.2, 0.4)))
    return steps + list(before) + [
        dict(
            type='OdomScanRegistration',
            prior_cache=osp.join(root, 'infos') if cached else None,
            quality=quality)
    ]


def dataset(root, **kwargs):
    return KittiOdometryDataset(
        root,
        sequences='00',
        pipeline=pipeline(root, **kwargs),
        test_mode=True)


@pytest.mark.parametrize('cached', [True, False])
@pytest.mark.parametrize('rotate', [False, True])
def test_prior_matches_the_target(sample, rotate, cached):
    ds = dataset(sample, rotate=rotate, cached=cached)
    np.random.seed(0)
    for i in (0, 5, 10):
        out = ds[i]
        assert out['reg_info']['converged']
        assert out['reg_info']['source'] == ('cache'
                                             if cached else 'registered')
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


def test_cached_prior_is_the_registration_of_the_scans(sample):
    """Un-augmented: the cache holds exactly what registering the whole
    scans gives; yaw-rotated: the analytically rotated cached prior agrees
    with registering the rotated clouds."""
    priors = {}
    for rotate in (False, True):
        for cached in (True, False):
            np.random.seed(1)
            out = dataset(sample, rotate=rotate, cached=cached, crop=False)[3]
            assert out['reg_info']['source'] == ('cache'
                                                 if cached else 'registered')
            priors[rotate, cached] = out['reg_prior']
    np.testing.assert_allclose(
        priors[False, True], priors[False, False], atol=1e-6)
    # the voxels of the rotated clouds differ: equal up to the accuracy
    # of the registration
    diff = priors[True, True] - priors[True, False]
    assert np.linalg.norm(diff[:3]) < 0.01 and np.linalg.norm(
        diff[3:]) < 1e-3, diff
    # the rotation (0.2-0.4 rad) turned the 0.7 m motion
    assert np.linalg.norm(priors[True, True][:3] -
                          priors[False, True][:3]) > 0.1


def test_quality_from_the_cache_equals_the_registration(sample):
    """``quality=True``: the registration-quality vector read from the
    cache (its Hessian and counts) is that of registering the scans."""
    quality = {}
    for cached in (True, False):
        out = dataset(sample, cached=cached, crop=False, quality=True)[4]
        assert out['reg_info']['hessian'].shape == (6, 6)
        quality[cached] = out['reg_quality']
    assert quality[True].dtype == np.float32 and quality[True].shape == (6, )
    np.testing.assert_allclose(quality[True], quality[False], atol=1e-5)
    assert quality[True][0] == 1 and 0 < quality[True][1] <= 1
    assert 'reg_quality' not in dataset(sample)[4]


def test_thinned_clouds_are_registered_on_the_fly(sample):
    before = [dict(type='OdomPointDropout', drop_ratio=(0.3, 0.4), prob=1.0)]
    out = dataset(sample, before=before)[2]
    assert out['reg_info']['source'] == 'registered'
    assert len(out['point_dropout']) == 2
    target = pose_to_vector(out['gt_pose'])
    assert np.linalg.norm(out['reg_prior'][:3] - target[:3]) < 0.05


def test_rotation_after_the_registration_is_refused(sample):
    steps = pipeline(sample) + [
        dict(type='OdomGlobalYawRotation', rot_range=(0.2, 0.4))
    ]
    ds = KittiOdometryDataset(
        sample, sequences='00', pipeline=steps, test_mode=True)
    with pytest.raises(ValueError, match='before OdomScanRegistration'):
        ds[0]


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
    assert out['reg_info']['source'] == 'registered'


def test_bad_clouds_name_the_sample():
    cloud = LiDARPoints(torch.zeros(3, 4), points_dim=4)
    results = dict(
        points=[cloud, cloud], Tr=np.eye(4), seq='07', frame_ids=(1, 2))
    with pytest.raises(ValueError, match=r'sequence 07 frames \(1, 2\)'):
        OdomScanRegistration(min_range=0.0)(results)
    with pytest.raises(ValueError, match='needs two clouds'):
        OdomScanRegistration()(dict(points=[cloud], Tr=np.eye(4)))
    with pytest.raises(ValueError, match='one value per level'):
        OdomScanRegistration(voxel_sizes=(1.0, ))
    # no LiDAR: passed through
    assert list(OdomScanRegistration()(dict(Tr=np.eye(4)))) == ['Tr']


def test_sequential_registration_reads_the_cache_only(sample, tmp_path):
    """A sequential registration (``predict``) needs the previous pair of
    the sequence: read from its cache, refused on the fly and for clouds
    thinned before it."""
    cfg = dict(predict='motion', min_eigen_ratio=0.02)
    build_reg_prior_cache(sample, out_dir=str(tmp_path), **cfg)
    steps = pipeline(sample)
    steps[-1] = dict(steps[-1], prior_cache=str(tmp_path), **cfg)
    ds = KittiOdometryDataset(
        sample, sequences='00', pipeline=steps, test_mode=True)
    out = ds[2]
    assert out['reg_info']['source'] == 'cache'
    target = pose_to_vector(out['gt_pose'])
    assert np.linalg.norm(out['reg_prior'][:3] - target[:3]) < 0.05
    thinned = steps[:-1] + [
        dict(type='OdomPointDropout', drop_ratio=(0.3, 0.4), prob=1.0)
    ] + steps[-1:]
    ds = KittiOdometryDataset(
        sample, sequences='00', pipeline=thinned, test_mode=True)
    with pytest.raises(ValueError, match='cannot be registered on the fly'):
        ds[2]
    with pytest.raises(ValueError, match='come from a prior_cache'):
        OdomScanRegistration(**cfg)


def _fail_pairs(cache_dir, firsts):
    """Mark the pairs starting at ``firsts`` of 00's cache as failed."""
    path = osp.join(cache_dir, 'kitti_reg_priors_00.npz')
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    rows = np.isin(arrays['frame_ids'][:, 0], firsts)
    arrays['converged'] = arrays['converged'] & ~rows
    np.savez(path, **arrays)
    return arrays


@pytest.mark.parametrize('rotate', [False, True])
def test_failed_sequential_pair_keeps_the_prediction(sample, tmp_path, rotate):
    """With ``failed='predict'`` a failed pair of a sequential chain gets
    the prediction its chain went on from: with ``predict='motion'`` the
    estimate of the last pair before it that converged (also after a yaw
    rotation, rotated like the target); with the default it has none."""
    cfg = dict(predict='motion', min_eigen_ratio=0.02)
    build_reg_prior_cache(sample, out_dir=str(tmp_path), **cfg)
    arrays = _fail_pairs(str(tmp_path), [2, 3])
    steps = pipeline(sample, rotate=rotate)
    steps[-1] = dict(steps[-1], prior_cache=str(tmp_path), **cfg)

    def item(index, **options):
        ds = KittiOdometryDataset(
            sample,
            sequences='00',
            pipeline=steps[:-1] + [dict(steps[-1], **options)],
            test_mode=True)
        np.random.seed(0)  # the same yaw rotation in every call
        return ds[index]

    assert 'reg_prior' not in item(3)
    out = item(3, failed='predict')
    assert out['reg_info']['source'] == 'prediction'
    assert not out['reg_info']['converged']
    # pair (1, 2) is the last that converged before (3, 4)
    previous = item(1)
    assert previous['reg_info']['source'] == 'cache'
    if not rotate:
        np.testing.assert_allclose(
            out['reg_prior'], previous['reg_prior'], atol=1e-6)
    else:
        # the same LiDAR motion, rotated by each sample's own yaw
        v = arrays['pose'][1]
        Tr = np.asarray(out['Tr'])
        T_cam = Tr @ make_pose(so3_exp(v[3:]), v[:3]) @ se3_inverse(Tr)
        expected = rotate_relative_pose(T_cam, yaw_matrix(out['yaw_rotation']),
                                        Tr)
        np.testing.assert_allclose(
            out['reg_prior'], pose_to_vector(expected), atol=1e-5)
    assert item(4, failed='predict')['reg_info']['source'] == 'cache'
    with pytest.raises(ValueError, match='sequential registration'):
        OdomScanRegistration(failed='predict')
    with pytest.raises(ValueError, match="'regress' or 'predict'"):
        OdomScanRegistration(prior_cache=str(tmp_path), failed='keep', **cfg)


def test_failed_pair_filled_by_the_camera_keeps_its_motion(sample, tmp_path):
    """A pair whose registration failed and whose pose the camera filled
    (``fill_camera``) keeps the cached camera motion, with either
    ``failed``; a later failed pair predicts from it."""
    cfg = dict(predict='motion', min_eigen_ratio=0.02, fill_camera={})
    build_reg_prior_cache(sample, out_dir=str(tmp_path), **cfg)
    path = osp.join(str(tmp_path), 'kitti_reg_priors_00.npz')
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    assert {'filled', 'visual_pose', 'visual_inliers'} <= set(arrays)
    camera = np.array([0.01, 0.0, 0.9, 0.0, 0.002, 0.0])
    arrays['converged'][[2, 3]] = False
    arrays['filled'][[2, 3]] = [True, False]
    arrays['pose'][2] = camera
    np.savez(path, **arrays)
    steps = pipeline(sample)
    for failed in ('regress', 'predict'):
        step = dict(steps[-1], prior_cache=str(tmp_path), failed=failed, **cfg)
        ds = KittiOdometryDataset(
            sample,
            sequences='00',
            pipeline=steps[:-1] + [step],
            test_mode=True)
        out = ds[2]
        assert out['reg_info']['source'] == 'camera'
        assert not out['reg_info']['converged'] and out['reg_info']['filled']
        Tr = np.asarray(out['Tr'])
        expected = Tr @ make_pose(so3_exp(camera[3:]),
                                  camera[:3]) @ se3_inverse(Tr)
        np.testing.assert_allclose(
            out['reg_prior'], pose_to_vector(expected), atol=1e-6)
        nxt = ds[3]
        if failed == 'regress':
            assert 'reg_prior' not in nxt
        else:  # predicted from the filled pair before it
            assert nxt['reg_info']['source'] == 'prediction'
            np.testing.assert_allclose(
                nxt['reg_prior'], out['reg_prior'], atol=1e-6)
