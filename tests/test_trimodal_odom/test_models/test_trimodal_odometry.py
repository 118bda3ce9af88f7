import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement

import projects.trimodal_odom.trimodal_odom.models  # noqa: F401
from projects.trimodal_odom.trimodal_odom.utils import make_pose, so3_exp


def light_model_cfg(fusion='PointGateFusion',
                    self_supervised_loss=None,
                    **encoders):
    cfg = dict(
        type='TrimodalOdometry',
        encoders=dict(
            visual=dict(
                type='ImagePairEncoder',
                backbone=dict(
                    type='LightConvNet', channels=(8, 16),
                    kernel_sizes=(5, 3)),
                feat_channels=16,
                out_channels=32),
            point=dict(
                type='PointNetEncoder', mlp_channels=(16, 32),
                out_channels=32),
            imu=dict(
                type='GRUIMUEncoder', hidden_channels=16, out_channels=16)),
        fusion=dict(type=fusion, modality_dropout=0.0),
        pose_head=dict(type='PoseRegressionHead', hidden_channels=(32, )),
        self_supervised_loss=self_supervised_loss)
    cfg['encoders'].update(encoders)
    return cfg


def make_inputs(n=2, p=64, length=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = dict(
        imgs=torch.rand(n, 2, 3, 32, 64, generator=g),
        points=torch.randn(n, 2, p, 4, generator=g),
        points_mask=torch.ones(n, 2, p, dtype=torch.bool),
        imu=torch.randn(n, length, 6, generator=g),
        imu_mask=torch.ones(n, length, dtype=torch.bool),
        modality_mask=torch.ones(n, 3, dtype=torch.bool))
    inputs['points_mask'][:, :, p // 2:] = False
    inputs['points'][:, :, p // 2:] = 0
    return inputs


def make_samples(n=2):
    samples = []
    for i in range(n):
        T = make_pose(so3_exp([0.0, 0.02 * (i + 1), 0.0]), [0.1, 0.0, 1.0])
        samples.append(
            BaseDataElement(
                gt_pose=torch.as_tensor(T, dtype=torch.float32),
                metainfo=dict(seq='00', frame_ids=(i, i + 1))))
    return samples


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet3d')


def test_modes_and_gradients():
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg())
    inputs = make_inputs()
    losses = model(inputs, make_samples(), mode='loss')
    assert set(losses) == {'loss_trans', 'loss_rot'}
    sum(losses.values()).backward()
    for name in ('visual', 'point', 'imu'):
        grads = [
            p.grad for p in model.encoders[name].parameters()
            if p.grad is not None
        ]
        assert grads and any(g.abs().sum() > 0 for g in grads), name
    assert model(inputs, mode='tensor').shape == (2, 6)
    model.eval()
    out = model(inputs, make_samples(), mode='predict')
    assert len(out) == 2 and out[0].pred_pose.shape == (4, 4)
    R = out[0].pred_pose[:3, :3].double()
    torch.testing.assert_close(
        R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-5, rtol=0)


def test_overfits_a_batch():
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg())
    inputs, samples = make_inputs(), make_samples()
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        loss = sum(model(inputs, samples, mode='loss').values())
        first = first if first is not None else loss.item()
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert loss.item() < 0.3 * first


def test_absent_modality_is_ignored():
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg()).eval()
    inputs = make_inputs()
    inputs['modality_mask'][:, 2] = False
    inputs['imu_mask'][:] = False
    a = model(inputs, mode='tensor')
    inputs['imu'] = torch.randn_like(inputs['imu']) * 100
    torch.testing.assert_close(model(inputs, mode='tensor'), a)
    # A modality the config switches off need not be in the inputs.
    model = MODELS.build(light_model_cfg(imu=None)).eval()
    inputs.pop('imu')
    inputs.pop('imu_mask')
    assert model(inputs, mode='tensor').shape == (2, 6)


def test_padded_points_are_ignored():
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg()).eval()
    inputs = make_inputs()
    a = model(inputs, mode='tensor')
    inputs['points'][:, :, -5:] = 1e3
    torch.testing.assert_close(model(inputs, mode='tensor'), a)


def test_batch_of_one_equals_batch_rows():
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg()).eval()
    inputs = make_inputs(n=2)
    both = model(inputs, mode='tensor')
    one = model({k: v[1:] for k, v in inputs.items()}, mode='tensor')
    torch.testing.assert_close(one[0], both[1], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('change, message', [
    (lambda x: x.__setitem__('imgs', x['imgs'][:, 0]), 'imgs'),
    (lambda x: x.__setitem__('points_mask', x['points_mask'][:, :, :3]),
     'points_mask'),
    (lambda x: x.__setitem__('imu_mask', x['imu_mask'][:, :4]), 'imu_mask'),
    (lambda x: x.pop('imu'), "inputs\\['imu'\\]"),
    (lambda x: x.__setitem__('modality_mask', x['modality_mask'][:, :2]),
     'modality_mask'),
])
def test_bad_inputs_raise(change, message):
    """Keys and shapes are checked in the model (no value is read there:
    the contents are checked where the data are loaded and batched, see
    test_data_preprocessor.py and the loaders' tests)."""
    model = MODELS.build(light_model_cfg())
    inputs = make_inputs()
    change(inputs)
    with pytest.raises((ValueError, KeyError), match=message):
        model(inputs, make_samples(), mode='loss')


def test_bad_gt_pose_raises():
    model = MODELS.build(light_model_cfg())
    samples = make_samples()
    samples[1].gt_pose = torch.full((4, 4), float('nan'))
    with pytest.raises(ValueError, match='gt_pose'):
        model(make_inputs(), samples, mode='loss')


def test_geodesic_loss_and_rodrigues():
    from projects.trimodal_odom.trimodal_odom.models import (
        GeodesicRotationLoss, axis_angle_to_matrix)
    w = torch.tensor([[0.1, -0.3, 0.2], [1e-9, 0.0, 0.0]], dtype=torch.float64)
    np.testing.assert_allclose(
        axis_angle_to_matrix(w).numpy(), so3_exp(w.numpy()), atol=1e-12)
    loss = GeodesicRotationLoss(reduction='none')
    target = torch.zeros(2, 3, dtype=torch.float64)
    pred = torch.tensor([[0.0, 0.05, 0.0], [0.0, 0.0, -0.2]],
                        dtype=torch.float64,
                        requires_grad=True)
    out = loss(pred, target)
    torch.testing.assert_close(
        out, torch.tensor([0.05, 0.2], dtype=torch.float64), atol=1e-6, rtol=0)
    out.sum().backward()
    assert torch.isfinite(pred.grad).all()


def test_pose_head_normalisation():
    """``pose_mean`` / ``pose_std`` set the output's offset and scale,
    stay out of checkpoints, and are validated."""
    init_default_scope('mmdet3d')
    mean = [0.0, -0.015, 0.87, 0.0, 0.0, 0.0]
    std = [0.03, 0.01, 0.3, 0.004, 0.02, 0.003]
    head = MODELS.build(
        dict(
            type='PoseRegressionHead',
            in_channels=8,
            hidden_channels=(16, ),
            pose_mean=mean,
            pose_std=std))
    plain = MODELS.build(
        dict(type='PoseRegressionHead', in_channels=8, hidden_channels=(16, )))
    plain.load_state_dict(head.state_dict())  # same keys: no buffers saved
    x = torch.randn(4, 8)
    torch.testing.assert_close(
        head(x),
        plain(x) * torch.tensor(std) + torch.tensor(mean))
    for fc in (head.fc_trans, head.fc_rot):
        torch.nn.init.zeros_(fc.weight)
        torch.nn.init.zeros_(fc.bias)
    torch.testing.assert_close(head(x), torch.tensor([mean] * 4))
    for bad in (dict(pose_std=[0.0] * 6), dict(pose_mean=[0.0] * 5),
                dict(pose_mean=[float('nan')] * 6)):
        with pytest.raises(ValueError, match='pose_mean and pose_std'):
            MODELS.build(dict(type='PoseRegressionHead', in_channels=8, **bad))


@pytest.mark.parametrize('fusion', ['SoftGateFusion', 'PointGateFusion'])
def test_predictions_carry_the_gates(fusion):
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg(fusion)).eval()
    inputs = make_inputs()
    inputs['modality_mask'][1, 0] = False  # no camera in sample 1
    out = model(inputs, make_samples(), mode='predict')
    _, gates = model.extract_feat(inputs, return_gates=True)
    for i, sample in enumerate(out):
        assert sample.gate_modalities == ('visual', 'point', 'imu')
        assert sample.pred_gates.shape == (3, )
        torch.testing.assert_close(sample.pred_gates, gates[i])
    assert out[1].pred_gates[0] == 0 and (out[0].pred_gates > 0).all()
    assert ((gates >= 0) & (gates <= 1)).all()


def test_point_gate_reads_the_samples_registration_quality():
    """The model gives each sample's ``reg_quality`` to a fusion with
    quality channels (zeros without LiDAR); a sample with LiDAR but none
    is named."""
    torch.manual_seed(0)
    cfg = light_model_cfg()
    cfg['fusion'].update(gate='scalar', quality_channels=3)
    model = MODELS.build(cfg).eval()
    inputs = make_inputs()
    inputs['modality_mask'][1, 1] = False  # no LiDAR in sample 1
    samples = make_samples()
    samples[0].set_metainfo(dict(reg_quality=np.float32([1.0, 0.6, 0.2])))
    out = model(inputs, samples, mode='predict')
    gate = float(out[0].pred_gates[1])
    assert 0 < gate < 1 and out[1].pred_gates[1] == 0
    samples[0].set_metainfo(dict(reg_quality=np.float32([0.0, 0.0, 5.0])))
    moved = model(inputs, samples, mode='predict')
    assert abs(float(moved[0].pred_gates[1]) - gate) > 1e-3
    assert set(model(inputs, samples,
                     mode='loss')) == {'loss_trans', 'loss_rot'}
    no_quality = make_samples()
    with pytest.raises(
            ValueError,
            match=r'sample 0 \(sequence 00 frames '
            r'\(0, 1\)\): no reg_quality'):
        model(inputs, no_quality, mode='loss')


def test_quality_gates_read_the_samples_cues():
    """The model gives each sample's ``img_quality`` and ``reg_quality``
    to a :class:`QualityGateFusion` (zeros where the sensor is absent);
    the camera's weight moves with its own cue; a sample with a camera but
    no ``img_quality`` is named."""
    torch.manual_seed(0)
    cfg = light_model_cfg('QualityGateFusion')
    cfg['fusion'].update(cue_channels=dict(visual=2, point=1))
    model = MODELS.build(cfg).eval()
    torch.nn.init.normal_(model.fusion.gates['visual'][-1].weight)
    inputs = make_inputs()
    inputs['modality_mask'][1, 0] = False  # no camera in sample 1
    samples = make_samples()
    for s, q in zip(samples, ([1.0, 0.0], [0.0, 1.0])):
        s.set_metainfo(
            dict(img_quality=np.float32(q), reg_quality=np.float32([1.0])))
    out = model(inputs, samples, mode='predict')
    assert out[0].gate_modalities == ('visual', 'point', 'imu')
    gate = float(out[0].pred_gates[0])
    assert 0 < gate < 1 and out[1].pred_gates[0] == 0
    assert out[0].pred_gates[2] == 1  # the IMU passes ungated
    samples[0].set_metainfo(dict(img_quality=np.float32([0.0, 1.0])))
    moved = model(inputs, samples, mode='predict')
    assert abs(float(moved[0].pred_gates[0]) - gate) > 1e-3
    torch.testing.assert_close(moved[0].pred_gates[1:], out[0].pred_gates[1:])
    assert set(model(inputs, samples,
                     mode='loss')) == {'loss_trans', 'loss_rot'}
    no_cue = make_samples()
    for s in no_cue:
        s.set_metainfo(dict(reg_quality=np.float32([1.0])))
    with pytest.raises(
            ValueError,
            match=r'sample 0 \(sequence 00 frames '
            r'\(0, 1\)\): no img_quality'):
        model(inputs, no_cue, mode='loss')


def test_no_gates_without_a_gated_fusion():
    model = MODELS.build(light_model_cfg('ConcatFusion')).eval()
    out = model(make_inputs(), make_samples(), mode='predict')
    assert 'pred_gates' not in out[0]


def test_self_supervised_loss_trains_unlabelled_samples():
    """With a photometric loss, a batch may hold samples without gt_pose:
    they are trained by it alone, and it reaches the encoders."""
    torch.manual_seed(0)
    cfg = light_model_cfg(
        self_supervised_loss=dict(type='PhotometricReprojectionLoss'))
    model = MODELS.build(cfg)
    inputs = make_inputs(p=256)
    # points 5-15 m ahead of the LiDAR (x forward), in view of the camera
    inputs['points'][..., 0] = inputs['points'][..., 0].abs() * 3 + 5
    samples = make_samples()
    lidar_to_cam = np.eye(4)
    lidar_to_cam[:3, :3] = [[0, -1, 0], [0, 0, -1], [1, 0, 0]]
    P2 = np.array([[60.0, 0, 32, 0], [0, 60.0, 16, 0], [0, 0, 1, 0]])
    for s in samples:
        s.set_metainfo(dict(Tr=lidar_to_cam, P2=P2, scale_factor=(1.0, 1.0)))
    del samples[1].gt_pose
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_trans', 'loss_rot', 'loss_photometric'}
    assert losses['loss_photometric'] > 0
    model.zero_grad()
    losses['loss_photometric'].backward()
    for name in ('visual', 'point', 'imu'):
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in model.encoders[name].parameters()), name
    # no labelled sample at all: zero pose losses, still the photometric
    del samples[0].gt_pose
    losses = model(inputs, samples, mode='loss')
    assert losses['loss_trans'] == 0 and losses['loss_photometric'] > 0
    # without the loss, unlabelled samples are refused
    plain = MODELS.build(light_model_cfg())
    with pytest.raises(ValueError, match='2 samples without gt_pose'):
        plain(inputs, samples, mode='loss')
