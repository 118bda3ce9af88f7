"""PriorResidualPoseHead refines registration priors and falls back to
regression without them; TrimodalOdometry hands it the LiDAR priors."""
import copy

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import projects.trimodal_odom.trimodal_odom.models  # noqa: F401
from projects.trimodal_odom.trimodal_odom.utils import pose_to_vector
from tests.test_trimodal_odom.test_models.test_trimodal_odometry import (
    light_model_cfg, make_inputs, make_samples)

NAN6 = [float('nan')] * 6


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet3d')


def head_cfg(**kwargs):
    return dict(
        type='PriorResidualPoseHead',
        in_channels=16,
        hidden_channels=(32, ),
        pose_mean=[0.0, -0.015, 0.87, 0.0, 0.0, 0.0],
        pose_std=[0.03, 0.01, 0.3, 0.004, 0.02, 0.003],
        **kwargs)


def test_starts_at_the_prior_and_falls_back_without_one():
    torch.manual_seed(0)
    head = MODELS.build(head_cfg())
    head.init_weights()
    plain = MODELS.build(dict(head_cfg(), type='PoseRegressionHead'))
    plain.load_state_dict(head.state_dict(), strict=False)
    x = torch.randn(3, 16)
    prior = torch.tensor([[0.01, -0.02, 0.9, 0.001, 0.01, -0.002], NAN6,
                          [0.0, 0.0, 1.2, 0.0, -0.03, 0.0]])
    out = head(x, prior)
    # the correction starts at zero: rows with a prior return it
    torch.testing.assert_close(out[[0, 2]], prior[[0, 2]])
    # the row without one is regressed as by PoseRegressionHead
    torch.testing.assert_close(out[1], plain(x)[1])
    torch.testing.assert_close(head(x), plain(x))
    assert head.predict(x, prior).shape == (3, 4, 4)
    # the correction's layer is a parameter of the checkpoint
    assert {'fc_res.weight', 'fc_res.bias'} <= set(head.state_dict())


def test_learns_a_correction_of_the_prior():
    torch.manual_seed(0)
    head = MODELS.build(head_cfg(prior_dropout=0.0))
    samples = make_samples(4)
    target = torch.as_tensor(
        pose_to_vector(np.stack([s.gt_pose.numpy() for s in samples])),
        dtype=torch.float32)
    # a prior 1 cm / 1 mrad off the target
    prior = target + torch.tensor([0.01, 0.0, -0.01, 0.001, 0.0, 0.0])
    x = torch.randn(4, 16)
    optim = torch.optim.Adam(head.parameters(), lr=1e-3)
    first = None
    for _ in range(200):
        losses = head.loss(x, samples, prior)
        loss = sum(losses.values())
        first = first if first is not None else loss.item()
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert loss.item() < 0.2 * first
    assert head.fc_res.weight.abs().sum() > 0


def test_prior_dropout_hides_priors_in_training_only():
    torch.manual_seed(0)
    head = MODELS.build(head_cfg(prior_dropout=0.5))
    x = torch.randn(64, 16)
    prior = torch.zeros(64, 6)
    samples = make_samples(64)
    head.train()
    seen = []
    original = head._decode

    def spy(x, prior=None):
        seen.append(prior)
        return original(x, prior)

    head._decode = spy
    head.loss(x, samples, prior)
    hidden = torch.isnan(seen[0]).all(1)
    assert 10 < hidden.sum() < 54
    head.eval()
    head.loss(x, samples, prior)
    assert not torch.isnan(seen[1]).any()


def test_bad_arguments():
    with pytest.raises(ValueError, match='residual_std'):
        MODELS.build(head_cfg(residual_std=[0.1] * 5))
    with pytest.raises(ValueError, match='prior_dropout'):
        MODELS.build(head_cfg(prior_dropout=1.0))
    with pytest.raises(ValueError, match='residual_penalty'):
        MODELS.build(head_cfg(residual_penalty=-1.0))
    with pytest.raises(ValueError, match='residual_penalty'):
        MODELS.build(head_cfg(residual_penalty=[0.1] * 5))
    head = MODELS.build(head_cfg())
    with pytest.raises(ValueError, match=r'prior must be \(2, 6\)'):
        head(torch.randn(2, 16), torch.zeros(2, 3))


def test_residual_penalty_keeps_the_correction_at_zero():
    """``loss_residual`` is the L1 norm of the correction (0 at the start,
    0 for a sample without a prior); trained on a prior that is already
    right, the correction stays near zero with the penalty and drifts
    without it."""
    samples = make_samples(8)
    target = torch.as_tensor(
        pose_to_vector(np.stack([s.gt_pose.numpy() for s in samples])),
        dtype=torch.float32)
    x = torch.randn(8, 16, generator=torch.Generator().manual_seed(1))
    prior = target.clone()
    prior[1] = float('nan')
    head = MODELS.build(head_cfg(prior_dropout=0.0, residual_penalty=0.5))
    losses = head.loss(x, samples, prior)
    assert set(losses) == {'loss_trans', 'loss_rot', 'loss_residual'}
    assert losses['loss_residual'] == 0
    torch.nn.init.constant_(head.fc_res.bias, 1.0)
    _, residual = head._decode(x, prior)
    assert (residual[1] == 0).all() and (residual[0] == 1).all()
    torch.testing.assert_close(
        head.loss(x, samples, prior)['loss_residual'],
        torch.tensor(0.5 * 6 * 7 / 8))
    assert 'loss_residual' not in MODELS.build(head_cfg()).loss(
        x, samples, prior)
    # one weight per correction: the translation's only
    head.residual_penalty.copy_(torch.tensor([0.5] * 3 + [0.0] * 3))
    torch.testing.assert_close(
        head.loss(x, samples, prior)['loss_residual'],
        torch.tensor(0.5 * 3 * 7 / 8))

    def drift(penalty):
        torch.manual_seed(0)
        head = MODELS.build(
            head_cfg(prior_dropout=0.0, residual_penalty=penalty))
        # a noisy target around the (right) prior: nothing to correct
        optim = torch.optim.Adam(head.parameters(), lr=1e-2)
        for _ in range(100):
            noisy = make_samples(8)
            for s in noisy:
                s.gt_pose[:3, 3] += 0.01 * torch.randn(3)
            loss = sum(head.loss(x, noisy, prior).values())
            optim.zero_grad()
            loss.backward()
            optim.step()
        return head._decode(x, prior)[1].abs().mean().item()

    assert drift(0.01) < 0.5 * drift(0.0)


def with_priors(samples, priors):
    for sample, prior in zip(samples, priors):
        if prior is not None:
            sample.set_metainfo(
                dict(reg_prior=np.asarray(prior, dtype=np.float32)))
    return samples


def test_odometry_passes_lidar_priors_only():
    cfg = light_model_cfg('ConcatFusion')
    cfg['pose_head'] = dict(
        type='PriorResidualPoseHead', hidden_channels=(32, ))
    model = MODELS.build(cfg)
    inputs = make_inputs(n=3)
    inputs['modality_mask'][2, 1] = False  # no LiDAR in sample 2
    priors = [[0.0, 0.0, 1.0, 0.0, 0.01, 0.0], None,
              [0.0, 0.0, 2.0, 0.0, 0.0, 0.0]]
    samples = with_priors(make_samples(3), priors)
    prior = model.registration_prior(inputs, samples)
    torch.testing.assert_close(prior[0], torch.tensor(priors[0]))
    assert torch.isnan(prior[1:]).all()
    model.eval()
    out = model(inputs, copy.deepcopy(samples), mode='predict')
    pose = out[0].pred_pose
    torch.testing.assert_close(pose[2, 3], torch.tensor(1.0))
    assert model(
        inputs, samples, mode='loss').keys() == {'loss_trans', 'loss_rot'}
    bad = with_priors(make_samples(3), [None, [0.0] * 5, None])
    with pytest.raises(ValueError, match=r'sample 1 \(sequence 00 frames'):
        model.registration_prior(inputs, bad)
    nan = with_priors(make_samples(3), [NAN6, None, None])
    with pytest.raises(ValueError, match='6 finite values'):
        model.registration_prior(inputs, nan)
    # a model without the point encoder ignores the priors
    no_lidar = MODELS.build(
        dict(cfg, encoders=dict(cfg['encoders'], point=None)))
    assert no_lidar.registration_prior(inputs, samples) is None
    # a head without priors gets none
    plain = MODELS.build(light_model_cfg())
    assert plain.registration_prior(inputs, samples) is None
