import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import projects.trimodal_odom.trimodal_odom.models  # noqa: F401


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet3d')


def test_resnet_image_pair_encoder():
    enc = MODELS.build(
        dict(
            type='ImagePairEncoder',
            backbone=dict(
                type='mmdet.ResNet',
                depth=18,
                in_channels=6,
                out_indices=(3, ),
                norm_cfg=dict(type='GN', num_groups=32)),
            feat_channels=512,
            out_channels=64))
    assert enc(torch.rand(1, 2, 3, 64, 96)).shape == (1, 64)


def test_gru_encoder_uses_valid_prefix_only():
    torch.manual_seed(0)
    enc = MODELS.build(dict(type='GRUIMUEncoder', out_channels=8))
    imu = torch.randn(2, 10, 6)
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 6:] = False
    a = enc(imu, mask)
    imu[1, 6:] = 50.0
    torch.testing.assert_close(enc(imu, mask), a)
    mask[0] = False
    assert (enc(imu, mask)[0] == 0).all()
    mask[1, 2] = False
    with pytest.raises(ValueError, match='prefix'):
        enc(imu, mask)


def test_mlp_imu_encoder_masked():
    torch.manual_seed(0)
    enc = MODELS.build(dict(type='MLPIMUEncoder', out_channels=8))
    imu = torch.randn(2, 10, 6)
    mask = torch.rand(2, 10) > 0.3
    a = enc(imu, mask)
    imu[~mask] = 99.0
    torch.testing.assert_close(enc(imu, mask), a)
    with pytest.raises(ValueError, match='channels'):
        enc(torch.randn(2, 10, 5), mask)


@pytest.mark.parametrize('modality, args', [
    ('visual', lambda: (torch.rand(2, 2, 3, 16, 16), )),
    ('point', lambda: (torch.randn(2, 2, 20, 4), torch.ones(2, 2, 20).bool())),
    ('imu', lambda: (torch.randn(2, 7, 6), torch.ones(2, 7).bool())),
])
def test_dummy_encoder_trainable(modality, args):
    enc = MODELS.build(
        dict(type='DummyEncoder', modality=modality, out_channels=16))
    out = enc(*args())
    assert out.shape == (2, 16)
    out.sum().backward()
    assert enc.linear.weight.grad.abs().sum() > 0


def test_dummy_encoder_bad_input():
    enc = MODELS.build(dict(type='DummyEncoder', modality='point'))
    with pytest.raises(ValueError, match='channels'):
        enc(torch.randn(1, 2, 5, 3), torch.ones(1, 2, 5).bool())
    with pytest.raises(ValueError, match='modality'):
        MODELS.build(dict(type='DummyEncoder', modality='radar'))


def _bev(**kwargs):
    cfg = dict(
        type='BEVPairEncoder',
        point_cloud_range=[-8.0, -4.0, -2.0, 8.0, 4.0, 2.0],
        voxel_size=[0.5, 0.5],
        backbone=dict(
            type='LightConvNet',
            in_channels=4,
            channels=(8, 16),
            kernel_sizes=(3, 3)),
        feat_channels=16,
        out_channels=12)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_bev_pair_encoder_rasterizes_cells():
    enc = _bev()
    assert enc.grid == (16, 32)  # (H, W) = (y, x) cells
    points = torch.zeros(1, 2, 4, 4)
    mask = torch.ones(1, 2, 4, dtype=torch.bool)
    # scan 0: two points in cell (x=1.2, y=-0.7) -> ix 18, iy 6; one point
    # outside in x, one masked out
    points[0, 0, :, :3] = torch.tensor([[1.2, -0.7, 1.0], [1.3, -0.9, -1.0],
                                        [9.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    mask[0, 0, 3] = False
    # scan 1: the same cell contents moved 2 m forward (4 cells in x)
    points[0, 1] = points[0, 0]
    points[0, 1, :, 0] += 2.0
    mask[0, 1, 3] = False
    maps = enc.rasterize(points, mask)
    assert maps.shape == (1, 4, 16, 32)
    occ0, top0, occ1, top1 = maps[0]
    assert occ0[6, 18] == pytest.approx(torch.log1p(torch.tensor(2.)))
    assert top0[6, 18] == pytest.approx(0.75)  # z 1.0 in [-2, 2]
    assert (occ0 > 0).sum() == 1  # out-of-range and masked points ignored
    torch.testing.assert_close(occ1[:, 4:], occ0[:, :-4])
    torch.testing.assert_close(top1[:, 4:], top0[:, :-4])


def test_bev_pair_encoder_forward_and_errors():
    enc = _bev()
    points = torch.randn(3, 2, 50, 4) * 3
    mask = torch.rand(3, 2, 50) > 0.2
    out = enc(points, mask)
    assert out.shape == (3, 12)
    out.sum().backward()
    assert enc.backbone.stages[0].conv.weight.grad is not None
    with pytest.raises(ValueError, match='channels'):
        enc(points[..., :3], mask)
    with pytest.raises(ValueError, match=r'\(N, 2, P, C\)'):
        enc(points[:, :1], mask[:, :1])
    with pytest.raises(ValueError, match='point_cloud_range'):
        _bev(point_cloud_range=[0, 0, 0, -1, 1, 1])
    with pytest.raises(ValueError, match='voxel_size'):
        _bev(voxel_size=[0.5, 0.0])
