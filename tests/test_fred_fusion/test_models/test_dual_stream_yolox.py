import copy
import pickle

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement, InstanceData

from projects.fred_fusion.fred_fusion.models import DualStreamYOLOX, FusionNeck

H, W = 64, 96


def tiny_cfg(modalities=('rgb', 'event'), **kwargs):
    w = 0.125
    cfg = dict(
        type='DualStreamYOLOX',
        modalities=modalities,
        data_preprocessor=dict(
            type='DualModalDetDataPreprocessor',
            modalities=modalities,
            mean=dict(rgb=[120., 110., 100.], event=[30., 37., 52.]),
            std=dict(rgb=[58., 57., 57.], event=[57., 57., 57.]),
            bgr_to_rgb=True,
            pad_size_divisor=32),
        backbone=dict(type='CSPDarknet', deepen_factor=0.33, widen_factor=w),
        fusion_neck=dict(
            type='FusionNeck', in_channels=[32, 64, 128], mode='concat'),
        neck=dict(type='YOLOXPAFPN', out_channels=32, num_csp_blocks=1),
        bbox_head=dict(
            type='YOLOXHead', num_classes=5, in_channels=32, feat_channels=32),
        train_cfg=dict(
            assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
        test_cfg=dict(score_thr=0.0, nms=dict(type='nms', iou_threshold=0.65)))
    cfg.update(kwargs)
    return ConfigDict(cfg)


def build(**kwargs):
    init_default_scope('mmdet')
    model = MODELS.build(tiny_cfg(**kwargs))
    model.init_weights()
    return model


def batch(n=2, modalities=('rgb', 'event'), paired=True):
    samples = []
    for i in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_id=i,
                img_shape=(H, W),
                ori_shape=(H, W),
                scale_factor=(1., 1.),
                paired=paired))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 12., 40., 30.]]),
            labels=torch.tensor([i % 5]))
        samples.append(s)
    gen = torch.Generator().manual_seed(0)
    inputs = {
        m: [
            torch.randint(0, 256, (3, H, W), dtype=torch.uint8, generator=gen)
            for _ in range(n)
        ]
        for m in modalities
    }
    return dict(inputs=inputs, data_samples=samples)


def train_losses(model, data):
    model.train()
    data = model.data_preprocessor(data, True)
    return model(**data, mode='loss')


def test_dual_stream_structure_and_freezable_names():
    model = build()
    assert isinstance(model, DualStreamYOLOX)
    assert set(model.backbones.keys()) == {'rgb', 'event'}
    assert isinstance(model.fusion_neck, FusionNeck)
    # the PAFPN gets the fused channels
    assert model.neck.in_channels == model.fusion_neck.out_channels
    names = {
        n.split('.')[0] + '.' + n.split('.')[1]
        for n, _ in model.named_parameters() if n.startswith('backbones.')
    }
    assert names == {'backbones.rgb', 'backbones.event'}
    # the streams are separate modules with separate weights
    assert (model.backbones.rgb.stem.conv.conv.weight
            is not model.backbones.event.stem.conv.conv.weight)


@pytest.mark.parametrize('mode, ratio', [('concat', 0.75), ('add', 0.5),
                                         ('channel_attn', 0.25)])
def test_neck_in_channels_follow_fusion(mode, ratio):
    model = build(
        fusion_neck=dict(
            type='FusionNeck',
            in_channels=[32, 64, 128],
            mode=mode,
            compression_ratio=ratio))
    expected = [round(2 * c * ratio) for c in (32, 64, 128)]
    assert model.neck.in_channels == expected
    feats = model.extract_feat(
        dict(rgb=torch.rand(1, 3, H, W), event=torch.rand(1, 3, H, W)))
    assert [f.shape[1] for f in feats] == [32, 32, 32]


def test_mismatched_neck_in_channels_raise():
    with pytest.raises(ValueError, match='neck in_channels'):
        build(
            neck=dict(
                type='YOLOXPAFPN',
                in_channels=[32, 64, 64],
                out_channels=32,
                num_csp_blocks=1))


def test_loss_backward_reaches_both_streams():
    model = build()
    losses = train_losses(model, batch())
    assert {'loss_cls', 'loss_bbox', 'loss_obj'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for m in ('rgb', 'event'):
        grad = model.backbones[m].stem.conv.conv.weight.grad
        assert grad is not None and grad.abs().sum() > 0


@pytest.mark.parametrize('modality', ['rgb', 'event'])
def test_single_modality_skips_fusion(modality):
    model = build(modalities=(modality, ))
    assert model.fusion_neck is None and not model.with_fusion
    assert list(model.backbones.keys()) == [modality]
    assert model.neck.in_channels == [32, 64, 128]
    # the other modality in the batch is ignored
    losses = train_losses(model, batch())
    assert torch.isfinite(losses['loss_bbox'])
    model.eval()
    out = model.test_step(batch(modalities=(modality, )))
    assert len(out) == 2 and 'pred_instances' in out[0]


def test_share_weights_uses_one_backbone():
    model = build(share_weights=True)
    assert list(model.backbones.keys()) == ['shared']
    assert model.backbone_of('rgb') is model.backbone_of('event')
    dual = build()
    n_shared = sum(p.numel() for p in model.parameters())
    n_dual = sum(p.numel() for p in dual.parameters())
    n_backbone = sum(p.numel() for p in dual.backbones.rgb.parameters())
    assert n_dual - n_shared == n_backbone


def test_predict_rescales_and_scores_pairs():
    model = build(
        pair_discriminator=dict(type='PairDiscriminator', in_channels=128))
    model.eval()
    data = batch()
    for s in data['data_samples']:
        s.set_metainfo(dict(ori_shape=(2 * H, 2 * W), scale_factor=(.5, .5)))
    with torch.no_grad():
        out = model.test_step(data)
    assert len(out) == 2
    for sample in out:
        pred = sample.pred_instances
        assert pred.bboxes.shape[1] == 4 and len(pred.bboxes) > 0
        assert 0.0 <= sample.pair_score <= 1.0
        # boxes are in the original (2x) image
        assert pred.bboxes[:, 2].max() > W


def test_pair_discriminator_loss_and_batch_of_one():
    model = build(
        pair_discriminator=dict(type='PairDiscriminator', in_channels=128))
    losses = train_losses(model, batch(n=3))
    assert losses['loss_pair'] > 0
    assert 0.0 <= float(losses['pair_acc']) <= 1.0
    # discriminator parameters get gradients
    losses['loss_pair'].backward()
    assert model.pair_discriminator.mlp[0].weight.grad.abs().sum() > 0
    # a batch of one has no negative: skipped, no crash
    losses = train_losses(model, batch(n=1))
    assert float(losses['loss_pair']) == 0.0
    assert 'pair_acc' not in losses


def test_pair_discriminator_learns_pairs():
    from projects.fred_fusion.fred_fusion.models import PairDiscriminator
    torch.manual_seed(0)
    disc = PairDiscriminator(in_channels=8, feat_channels=16)
    opt = torch.optim.Adam(disc.parameters(), lr=0.02)
    base = torch.randn(6, 8, 2, 2)
    samples = [DetDataSample() for _ in range(6)]
    for _ in range(100):
        losses = disc.loss(base, base * 2 + 0.1, samples)
        opt.zero_grad()
        losses['loss_pair'].backward()
        opt.step()
    assert float(losses['pair_acc']) == 1.0
    scores = disc.predict(base, (base * 2 + 0.1).roll(1, 0))
    assert scores.max() < 0.5 < disc.predict(base, base * 2 + 0.1).min()


def test_pair_discriminator_needs_two_modalities():
    with pytest.raises(ValueError, match='needs two modalities'):
        build(
            modalities=('rgb', ),
            pair_discriminator=dict(type='PairDiscriminator', in_channels=128))


def test_val_step_appends_losses():
    model = build(val_loss=True)
    model.eval()

    def data():
        data = batch()
        # validation boxes are in original coordinates (2x the input)
        for s in data['data_samples']:
            s.set_metainfo(
                dict(ori_shape=(2 * H, 2 * W), scale_factor=(.5, .5)))
            s.gt_instances.bboxes *= 2
        return data

    with torch.no_grad():
        out = model.val_step(data())
        reference = model.test_step(data())
        # the loss of the same batch with the boxes in input pixels
        train_data = model.data_preprocessor(batch(), False)
        expected = model(**train_data, mode='loss')
    assert len(out) == 3 and isinstance(out[-1], BaseDataElement)
    assert out[-1].keys() == ['loss']
    assert set(out[-1].loss) == {'loss'}
    torch.testing.assert_close(out[-1].loss['loss'],
                               sum(v for v in expected.values()))
    # predictions as the test path gives them, boxes in original pixels
    for got, ref in zip(out[:2], reference):
        torch.testing.assert_close(got.pred_instances.bboxes,
                                   ref.pred_instances.bboxes)
    assert out[0].gt_instances.bboxes[0, 2] == 80.
    with torch.no_grad():
        assert len(build(val_loss=False).eval().val_step(batch())) == 2


def test_modality_mismatch_with_preprocessor_raises():
    cfg = tiny_cfg()
    cfg.data_preprocessor.modalities = ('rgb', )
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='data preprocessor batches'):
        MODELS.build(cfg)


def test_bad_inputs_raise_named_errors():
    model = build().eval()
    x = torch.rand(2, 3, 64, 96)
    with pytest.raises(KeyError, match=r"modality \['event'\] missing"):
        model.extract_feat(dict(rgb=x))
    with pytest.raises(TypeError, match='inputs keyed by modality'):
        model.extract_feat(x)
    with pytest.raises(ValueError, match="'event' input .* does not match"):
        model.extract_feat(dict(rgb=x, event=torch.rand(2, 3, 64, 64)))
    with pytest.raises(
            ValueError, match=r"'rgb' input must be \(N, C, H, W\)"):
        model.extract_feat(dict(rgb=x[0], event=x))


def test_multiscale_batch_augment_keeps_modalities_aligned():
    MessageHub.get_current_instance().update_info('iter', 0)
    cfg = tiny_cfg()
    cfg.data_preprocessor.batch_augments = [
        dict(
            type='DualModalBatchSyncRandomResize',
            random_size_range=(32, 32),
            size_divisor=32,
            interval=1)
    ]
    init_default_scope('mmdet')
    model = MODELS.build(cfg)
    data = batch()
    # the first call keeps the size and draws the next one: 32 x 32
    model.data_preprocessor(data, True)
    out = model.data_preprocessor(batch(), True)
    assert out['inputs']['rgb'].shape == out['inputs']['event'].shape
    assert out['inputs']['rgb'].shape[-2:] == (32, 32)
    sample = out['data_samples'][0]
    assert sample.batch_input_shape == (32, 32)
    # boxes follow the resize: x scale 32 / 96, y scale 32 / 64
    torch.testing.assert_close(sample.gt_instances.bboxes,
                               torch.tensor([[10 / 3, 6., 40 / 3, 15.]]))


def assert_same_losses(ref, fast, rtol: float, atol: float) -> tuple:
    """Load ``ref``'s weights into ``fast``, train both on one batch and
    check that every output matches; returns both outputs."""
    fast.load_state_dict(ref.state_dict())
    data = batch()
    expected = train_losses(ref, data)
    got = train_losses(fast, data)
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, rtol=rtol, atol=atol)
    return expected, got


def test_channels_last_same_losses_and_layout():
    torch.manual_seed(0)
    ref = build()
    fast = build(channels_last=True)
    conv = fast.backbone_of('rgb').stem.conv.conv
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    _, got = assert_same_losses(ref, fast, rtol=1e-4, atol=1e-5)
    sum(v for k, v in got.items() if 'loss' in k).backward()
    assert conv.weight.grad is not None


def test_compile_network_same_losses_and_keys():
    """Compiled (dynamo tracing, eager kernels to keep the test fast)
    network parts give the same losses and gradients under the same
    parameter names."""
    torch.manual_seed(0)
    ref = build()
    fast = build(compile_network=dict(backend='eager'))
    assert list(fast.state_dict()) == list(ref.state_dict())
    # the backbones are compiled on images folded by it (divisible_sizes)
    assert fast.input_size_divisor == 32
    expected, got = assert_same_losses(ref, fast, rtol=1e-5, atol=1e-6)
    sum(v for k, v in expected.items() if 'loss' in k).backward()
    sum(v for k, v in got.items() if 'loss' in k).backward()
    for name in ('backbones.event.stem.conv.conv.weight',
                 'bbox_head.multi_level_cls_convs.0.0.conv.weight'):
        ref_grad = ref.get_parameter(name).grad
        got_grad = fast.get_parameter(name).grad
        assert got_grad is not None, name
        torch.testing.assert_close(got_grad, ref_grad, rtol=1e-4, atol=1e-6)
    # the training forward of each network part ran compiled (the head's
    # losses eagerly); the compiled functions are not part of the model
    assert fast.train_compiler.compiled_modules == ('backbones.rgb',
                                                    'backbones.event',
                                                    'fusion_neck', 'neck',
                                                    'bbox_head')
    assert ref.train_compiler is None
    assert list(fast.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in fast.named_modules()
            ] == [n for n, _ in ref.named_modules()]
    for clone in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert clone.train_compiler.compiled_modules == ()
        assert clone.train_compiler.backend == 'eager'


def test_compile_network_leaves_prediction_eager():
    """Prediction runs the eager modules: no compiled function is made."""
    model = build(compile_network=dict(backend='eager'))
    model.eval()
    with torch.no_grad():
        model(**model.data_preprocessor(batch(), False), mode='predict')
    assert model.train_compiler.compiled_modules == ()
