import pytest
import torch

from projects.fred_fusion.fred_fusion.models import FusionNeck

IN_CHANNELS = [16, 32, 64]
SIZES = [(16, 24), (8, 12), (4, 6)]


def _streams(num_streams=2, batch=2, channels=IN_CHANNELS):
    return [[torch.rand(batch, c, h, w) for c, (h, w) in zip(channels, SIZES)]
            for _ in range(num_streams)]


@pytest.mark.parametrize('mode', ['concat', 'add', 'channel_attn'])
@pytest.mark.parametrize('ratio', [0.25, 0.5, 0.75, 1.0])
def test_fusion_neck_channels_and_shapes(mode, ratio):
    neck = FusionNeck(IN_CHANNELS, mode=mode, compression_ratio=ratio)
    expected = [round(2 * c * ratio) for c in IN_CHANNELS]
    assert neck.out_channels == expected
    outs = neck(_streams())
    assert len(outs) == 3
    for out, c, (h, w) in zip(outs, expected, SIZES):
        assert out.shape == (2, c, h, w)
    # every level is trainable through both streams
    feats = _streams()
    for level in feats[0] + feats[1]:
        level.requires_grad_(True)
    sum(o.sum() for o in neck(feats)).backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0
               for x in feats[0] + feats[1])


def test_fusion_neck_add_default_ratio_is_plain_sum():
    neck = FusionNeck(IN_CHANNELS, mode='add')
    assert neck.out_channels == IN_CHANNELS
    a, b = _streams()
    for out, x, y in zip(neck([a, b]), a, b):
        torch.testing.assert_close(out, x + y)


def test_fusion_neck_concat_uses_both_streams():
    neck = FusionNeck(IN_CHANNELS, mode='concat').eval()
    a, b = _streams()
    b2 = [x + 1 for x in b]
    for out, out2 in zip(neck([a, b]), neck([a, b2])):
        assert not torch.allclose(out, out2)


def test_fusion_neck_three_streams():
    neck = FusionNeck(IN_CHANNELS, num_streams=3, compression_ratio=1 / 3)
    assert neck.out_channels == IN_CHANNELS
    outs = neck(_streams(num_streams=3))
    assert [o.shape[1] for o in outs] == IN_CHANNELS


@pytest.mark.parametrize('kwargs, match', [
    (dict(mode='mul'), 'mode must be one of'),
    (dict(compression_ratio=0), 'compression_ratio must be > 0'),
    (dict(num_streams=1), 'at least 2 streams'),
])
def test_fusion_neck_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FusionNeck(IN_CHANNELS, **kwargs)


def test_fusion_neck_bad_inputs():
    neck = FusionNeck(IN_CHANNELS)
    a, b = _streams()
    with pytest.raises(ValueError, match='expects 2 streams'):
        neck([a])
    with pytest.raises(ValueError, match='3 levels per stream, stream 1'):
        neck([a, b[:2]])
    with pytest.raises(ValueError, match=r'level 1: expected \(N, 32, H, W\)'):
        neck([a, [b[0], torch.rand(2, 31, 8, 12), b[2]]])
    with pytest.raises(
            ValueError, match='level 2: the streams have different'):
        neck([a, [b[0], b[1], torch.rand(2, 64, 5, 6)]])
