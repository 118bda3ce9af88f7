import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

import projects.trimodal_odom.trimodal_odom.models  # noqa: F401

MODS = ('visual', 'point', 'imu')


def build(type_, **kwargs):
    init_default_scope('mmdet3d')
    return MODELS.build(
        dict(type=type_, modalities=MODS, in_channels=(8, 6, 4), **kwargs))


@pytest.mark.parametrize('type_, out', [('ConcatFusion', 21),
                                        ('SoftGateFusion', 18),
                                        ('PointGateFusion', 18)])
def test_absent_features_are_zeroed(type_, out):
    torch.manual_seed(0)
    fusion = build(type_).eval()
    feats = [torch.randn(3, c) for c in (8, 6, 4)]
    mask = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 1, 0]], dtype=torch.bool)
    a = fusion(feats, mask)
    assert a.shape == (3, out)
    feats[1] = feats[1] + torch.tensor([0, 5.0, 0])[:, None]
    feats[0][2] += 7
    b = fusion(feats, mask)
    torch.testing.assert_close(a[[1, 2]], b[[1, 2]])
    assert not torch.allclose(a, fusion(feats, torch.ones_like(mask)))


def test_modality_dropout_keeps_one_modality():
    torch.manual_seed(0)
    fusion = build('ConcatFusion', modality_dropout=0.9).train()
    mask = torch.ones(2000, 3, dtype=torch.bool)
    mask[:1000, 1:] = False
    dropped = fusion.drop_modalities(mask)
    assert dropped.any(1).all()
    assert not (dropped & ~mask).any()
    assert (~dropped[1000:]).float().mean() > 0.5
    assert dropped[:1000, 0].all()  # the only modality is never dropped
    fusion.eval()
    feats = [torch.ones(2000, c) for c in (8, 6, 4)]
    out = fusion(feats, mask)
    torch.testing.assert_close(out[:, 8:14].sum(), torch.tensor(6000.0))


def test_point_gate_configs():
    fusion = build('PointGateFusion', gate='scalar')
    assert fusion.gate[-1].out_features == 1
    with pytest.raises(ValueError, match='point'):
        MODELS.build(
            dict(
                type='PointGateFusion',
                modalities=('visual', 'imu'),
                in_channels=(8, 4)))
    with pytest.raises(ValueError, match='features'):
        build('ConcatFusion')([torch.ones(1, 8)], torch.ones(1, 3).bool())


def test_modality_gates():
    """The gates read per sample: the mean sigmoid over each modality's
    channels (soft gate) or the point gate with the other modalities
    passed ungated (point gate), zero for an absent modality, in [0, 1];
    none for concatenation."""
    torch.manual_seed(0)
    feats = [torch.randn(3, c) for c in (8, 6, 4)]
    mask = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=torch.bool)
    masked = [f * m[:, None] for f, m in zip(feats, mask.unbind(1))]
    maskf = mask.float()

    soft = build('SoftGateFusion').eval()
    fused, gates = soft(feats, mask, return_gates=True)
    torch.testing.assert_close(fused, soft(feats, mask))
    g = torch.sigmoid(soft.gate(torch.cat(masked + [maskf], 1)))
    expected = torch.stack(
        [g[:, :8].mean(1), g[:, 8:14].mean(1), g[:, 14:].mean(1)], 1)
    torch.testing.assert_close(gates, expected * maskf)
    assert gates.shape == (3, 3) and (gates[~mask] == 0).all()
    assert ((gates[mask] > 0) & (gates[mask] < 1)).all()

    point = build('PointGateFusion').eval()
    _, gates = point(feats, mask, return_gates=True)
    g = torch.sigmoid(point.gate(torch.cat(masked + [maskf], 1))).mean(1)
    torch.testing.assert_close(gates[:, [0, 2]], maskf[:, [0, 2]])
    torch.testing.assert_close(gates[:, 1], g * maskf[:, 1])
    assert gates[1, 1] == 0 and 0 < gates[0, 1] < 1

    _, gates = build('ConcatFusion')(feats, mask, return_gates=True)
    assert gates is None


def test_point_gate_reads_the_registration_quality():
    """With ``quality_channels`` the point gate depends on the quality
    vector (zeroed where the LiDAR is absent); without one it is refused,
    and a fusion without quality channels refuses one."""
    torch.manual_seed(0)
    fusion = build('PointGateFusion', quality_channels=2).eval()
    assert fusion.gate[0].in_features == 18 + 3 + 2
    feats = [torch.randn(3, c) for c in (8, 6, 4)]
    mask = torch.tensor([[1, 1, 1], [1, 1, 1], [1, 0, 1]], dtype=torch.bool)
    good = torch.tensor([[1.0, 0.9]] * 3)
    bad = torch.tensor([[0.0, 0.1]] * 3)
    _, g_good = fusion(feats, mask, return_gates=True, reg_quality=good)
    fused, g_bad = fusion(feats, mask, return_gates=True, reg_quality=bad)
    assert (g_good[:2, 1] - g_bad[:2, 1]).abs().min() > 1e-4
    # without LiDAR the quality is not read (and the point gate is 0)
    torch.testing.assert_close(g_good[2], g_bad[2])
    assert g_bad[2, 1] == 0
    torch.testing.assert_close(fused, fusion(feats, mask, reg_quality=bad))
    with pytest.raises(ValueError, match='needs reg_quality'):
        fusion(feats, mask)
    with pytest.raises(ValueError, match=r'must be \(3, 2\)'):
        fusion(feats, mask, reg_quality=torch.zeros(3, 6))
    with pytest.raises(ValueError, match='reads no registration quality'):
        build('PointGateFusion')(feats, mask, reg_quality=good)
    with pytest.raises(ValueError, match='quality_channels'):
        build('PointGateFusion', quality_channels=-1)


def quality_gate(**kwargs):
    return build(
        'QualityGateFusion', cue_channels=dict(visual=2, point=3),
        **kwargs).eval()


def test_quality_gates_start_open_and_pass_the_imu():
    """One weight per sensor, ``init_gate`` at the start whatever the
    cues; the IMU passes ungated; absent sensors weigh 0; the gates are
    appended to the gated features."""
    torch.manual_seed(0)
    fusion = quality_gate(init_gate=0.8)
    fusion.init_weights()
    assert fusion.out_channels == 18 + 3
    assert fusion.quality_channels == 3
    assert fusion.image_quality_channels == 2
    feats = [torch.randn(3, c) for c in (8, 6, 4)]
    mask = torch.tensor([[1, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=torch.bool)
    img_q, reg_q = torch.rand(3, 2), torch.rand(3, 3)
    fused, gates = fusion(
        feats, mask, return_gates=True, reg_quality=reg_q, img_quality=img_q)
    expected = torch.tensor([[0.8, 0.8, 1.0], [0.0, 0.8, 1.0], [0.8, 0.0,
                                                                0.0]])
    torch.testing.assert_close(gates, expected)
    assert fused.shape == (3, 21)
    torch.testing.assert_close(fused[:, 18:], expected)
    torch.testing.assert_close(fused[0, :8], 0.8 * feats[0][0])
    torch.testing.assert_close(fused[0, 14:18], feats[2][0])


def test_each_gate_reacts_to_its_own_cue():
    """Trained to lower the camera's weight where its cue says the frame
    is dark (and to follow the registration's quality for the LiDAR), the
    camera's gate moves with its cue only, the LiDAR's with the
    registration's quality only."""
    torch.manual_seed(0)
    fusion = quality_gate(hidden_channels=8).train()
    feats = [torch.randn(64, c) for c in (8, 6, 4)]
    mask = torch.ones(64, 3, dtype=torch.bool)
    dark = (torch.arange(64) % 2).float()
    img_q = torch.stack([1 - dark, dark], 1)
    reg_q = torch.rand(64, 3)
    opt = torch.optim.SGD(fusion.parameters(), lr=1.0)
    for _ in range(20):
        opt.zero_grad()
        _, gates = fusion(
            feats,
            mask,
            return_gates=True,
            reg_quality=reg_q,
            img_quality=img_q)
        # a target that wants the camera off in the dark frames only and
        # the LiDAR on with the first entry of its quality
        ((gates[:, 0] * (2 * dark - 1)).mean() -
         (gates[:, 1] * (2 * reg_q[:, 0] - 1)).mean()).backward()
        opt.step()
    fusion.eval()
    _, gates = fusion(
        feats, mask, return_gates=True, reg_quality=reg_q, img_quality=img_q)
    assert gates[dark == 1, 0].max() < gates[dark == 0, 0].min() - 0.1
    _, moved = fusion(
        feats,
        mask,
        return_gates=True,
        reg_quality=torch.zeros(64, 3),
        img_quality=img_q)
    torch.testing.assert_close(moved[:, 0], gates[:, 0])  # camera: own cue
    assert not torch.allclose(moved[:, 1], gates[:, 1])  # LiDAR: its cue
    torch.testing.assert_close(moved[:, 2], gates[:, 2])  # IMU: ungated


def test_quality_gate_inputs_and_ablations():
    feats = [torch.randn(2, c) for c in (8, 6, 4)]
    mask = torch.ones(2, 3, dtype=torch.bool)
    fusion = quality_gate()
    with pytest.raises(ValueError, match='needs img_quality'):
        fusion(feats, mask, reg_quality=torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r'img_quality must be \(2, 2\)'):
        fusion(
            feats,
            mask,
            reg_quality=torch.zeros(2, 3),
            img_quality=torch.zeros(2, 5))
    with pytest.raises(ValueError, match='reads no image quality'):
        build('PointGateFusion')(feats, mask, img_quality=torch.zeros(2, 2))
    with pytest.raises(ValueError, match='quality cues'):
        build('QualityGateFusion', cue_channels=dict(imu=1))
    with pytest.raises(ValueError, match='init_gate'):
        quality_gate(init_gate=1.0)
    # without the camera (an ablation of the same config) its cues go
    lidar_imu = MODELS.build(
        dict(
            type='QualityGateFusion',
            modalities=('point', 'imu'),
            in_channels=(6, 4),
            cue_channels=dict(visual=2, point=3))).eval()
    assert lidar_imu.image_quality_channels == 0
    assert lidar_imu.out_channels == 10 + 2
    out = lidar_imu(feats[1:], mask[:, 1:], reg_quality=torch.zeros(2, 3))
    assert out.shape == (2, 12)
