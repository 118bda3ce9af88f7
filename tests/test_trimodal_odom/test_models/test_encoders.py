import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import projects.trimodal_odom.trimodal_odom  # noqa: F401


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
