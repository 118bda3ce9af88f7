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
