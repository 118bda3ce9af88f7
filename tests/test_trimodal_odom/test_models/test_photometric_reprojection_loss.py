"""PhotometricReprojectionLoss on the generated sample's real files: near
the image noise for the true motion, growing with a wrong one, and its
gradient points to the true motion."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import projects.trimodal_odom.trimodal_odom.models  # noqa: F401
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils import (load_calib, load_poses,
                                                        load_velodyne,
                                                        make_pose, so3_exp)


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    """Frames 0 and 1 of the tiny sample: images (1, 2, 3, H, W) in [0, 1],
    the scan of frame 0 in its camera-0 frame (1, Q, 3), P2 (1, 3, 4) and
    the true motion (4, 4)."""
    root = str(tmp_path_factory.mktemp('tiny'))
    generate_kitti_sample(root, preset='tiny', sequences=('00', ))
    seq = osp.join(root, 'sequences', '00')
    calib = load_calib(osp.join(seq, 'calib.txt'))
    poses = load_poses(osp.join(root, 'poses', '00.txt'))
    imgs = np.stack([
        cv2.imread(osp.join(seq, 'image_2', f'{i:06d}.png'))[..., ::-1]
        for i in (0, 1)
    ]).astype(np.float32) / 255
    scan = load_velodyne(osp.join(seq, 'velodyne', '000000.bin'))[:, :3]
    points = scan @ calib['Tr'][:3, :3].T + calib['Tr'][:3, 3]
    return (torch.from_numpy(imgs).permute(0, 3, 1, 2)[None],
            torch.tensor(points, dtype=torch.float32)[None],
            torch.tensor(calib['P2'], dtype=torch.float32)[None],
            np.linalg.solve(poses[0], poses[1]))


def loss_of(loss, pair, T):
    imgs, points, P, _ = pair
    return loss(imgs, points, P, torch.tensor(T, dtype=torch.float32)[None])


def test_true_motion_is_best(pair):
    init_default_scope('mmdet3d')
    loss = MODELS.build(dict(type='PhotometricReprojectionLoss'))
    gt = pair[3]
    true = loss_of(loss, pair, gt).item()
    # the sample's images carry 2/255 noise; bilinear sampling of the
    # rendered texture leaves about 0.02
    assert true < 0.03
    errors = [
        loss_of(loss, pair, gt @ make_pose(np.eye(3), [0.0, 0.0, dz])).item()
        for dz in (0.1, 0.3, 0.6)
    ]
    assert true < errors[0] < errors[1] < errors[2], (true, errors)
    for wrong in (
            np.eye(4), gt @ make_pose(np.eye(3), [0.2, 0.0, 0.0]),
            gt @ make_pose(so3_exp([0.0, np.radians(1.0), 0.0]), np.zeros(3))):
        assert loss_of(loss, pair, wrong).item() > 1.25 * true
    # the same image, no motion: exactly zero
    imgs, points, P, _ = pair
    same = imgs[:, [0, 0]]
    assert loss(same, points, P, torch.eye(4)[None]).item() == 0.0


def test_gradient_points_to_the_true_motion(pair):
    loss = MODELS.build(
        dict(type='PhotometricReprojectionLoss', loss_weight=2.0))
    gt = torch.tensor(pair[3], dtype=torch.float32)
    offset = torch.tensor([0.0, 0.0, 0.3], requires_grad=True)
    T = gt.clone()
    T[:3, 3] = T[:3, 3] + offset
    value = loss(pair[0], pair[1], pair[2], T[None])
    value.backward()
    # forward too far: the loss falls backwards
    assert offset.grad[2] > 0
    assert value.item() == pytest.approx(
        2.0 * loss_of(
            MODELS.build(dict(type='PhotometricReprojectionLoss')), pair,
            T.detach().numpy()).item(),
        rel=1e-5)


def test_nothing_visible_and_bad_input(pair):
    loss = MODELS.build(dict(type='PhotometricReprojectionLoss'))
    imgs, points, P, _ = pair
    pose = torch.eye(4, requires_grad=True)
    behind = points.clone()
    behind[..., 2] = -behind[..., 2].abs() - 1.0  # all behind the camera
    value = loss(imgs, behind, P, pose[None])
    assert value.item() == 0.0 and value.requires_grad
    mask = torch.zeros(points.shape[:2], dtype=torch.bool)
    assert loss(imgs, points, P, pose[None], mask).item() == 0.0
    with pytest.raises(ValueError, match=r'\(N, 2, C, H, W\)'):
        loss(imgs[:, 0], points, P, pose[None])
