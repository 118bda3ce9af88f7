import copy

import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from projects.fred_fusion.fred_fusion.models import \
    DualModalDetDataPreprocessor


def _data(shapes, modalities=('rgb', 'event')):
    inputs = {
        m: [
            torch.full((3, h, w), 10 * (i + 1), dtype=torch.uint8)
            for i, (h, w) in enumerate(shapes)
        ]
        for m in modalities
    }
    for m in modalities:
        for img in inputs[m]:
            img[0] += 1  # B channel differs from R
    samples = [DetDataSample(metainfo=dict(img_shape=s)) for s in shapes]
    return dict(inputs=inputs, data_samples=samples)


def per_modality_preprocessor() -> DualModalDetDataPreprocessor:
    """Own statistics and channel order per modality, padding to 32."""
    return DualModalDetDataPreprocessor(
        mean=dict(rgb=[1., 2., 3.], event=[0., 0., 0.]),
        std=dict(rgb=[2., 2., 2.], event=[1., 1., 1.]),
        bgr_to_rgb=dict(rgb=True, event=False),
        pad_size_divisor=32,
        pad_value=-1)


def test_per_modality_normalisation_and_padding():
    pre = per_modality_preprocessor()
    out = pre(_data([(40, 50), (30, 70)]))
    rgb, event = out['inputs']['rgb'], out['inputs']['event']
    assert rgb.shape == event.shape == (2, 3, 64, 96)
    # rgb: channels swapped (B=11 goes last), then (x - mean) / std
    torch.testing.assert_close(
        rgb[0, :, 0, 0],
        torch.tensor([(10 - 1) / 2, (10 - 2) / 2, (11 - 3) / 2]))
    # event: own statistics, no swap
    torch.testing.assert_close(event[1, :, 0, 0], torch.tensor([21., 20.,
                                                                20.]))
    assert rgb[0, 0, 50, 0] == -1 and event[1, 0, 0, 80] == -1
    samples = out['data_samples']
    assert samples[0].batch_input_shape == (64, 96)
    assert samples[0].pad_shape == (64, 64)
    assert samples[1].pad_shape == (32, 96)


def test_unused_modality_is_dropped_and_extra_stats_ignored():
    pre = DualModalDetDataPreprocessor(
        modalities=('event', ),
        mean=dict(rgb=[0.] * 3, event=[10.] * 3),
        std=dict(rgb=[1.] * 3, event=[1.] * 3))
    out = pre(_data([(32, 32)]))
    assert list(out['inputs']) == ['event']


def test_bad_inputs_raise_named_errors():
    pre = DualModalDetDataPreprocessor(mean=[0.] * 3, std=[1.] * 3)
    with pytest.raises(KeyError, match=r"modality \['event'\] missing"):
        pre(_data([(32, 32)], modalities=('rgb', )))
    with pytest.raises(TypeError, match='inputs keyed by modality'):
        pre(dict(inputs=[torch.zeros(3, 8, 8)], data_samples=None))
    data = _data([(32, 32)])
    data['inputs']['event'][0] = torch.zeros(3, 32, 40, dtype=torch.uint8)
    with pytest.raises(ValueError, match="'event' image .* differ in size"):
        pre(data)
    data = _data([(32, 32), (32, 32)])
    data['inputs']['event'].pop()
    with pytest.raises(ValueError, match="1 'event' images but 2 'rgb'"):
        pre(data)
    data = _data([(32, 32)])
    data['inputs']['rgb'][0] = torch.zeros(1, 3, 32, 32)
    with pytest.raises(ValueError, match=r"'rgb' image 0 must be a \(C, H"):
        pre(data)


def test_bad_settings_raise():
    with pytest.raises(KeyError, match=r"no setting for modality \['event'\]"):
        DualModalDetDataPreprocessor(
            mean=dict(rgb=[0.] * 3), std=dict(rgb=[1.] * 3))
    with pytest.raises(ValueError, match='both set or both None'):
        DualModalDetDataPreprocessor(mean=[0.] * 3)
    with pytest.raises(TypeError, match='DualModalBatchSyncRandomResize'):
        DualModalDetDataPreprocessor(batch_augments=[
            dict(type='BatchSyncRandomResize', random_size_range=(32, 64))
        ])


def test_stacked_inputs_normalise_like_lists():
    pre = per_modality_preprocessor()
    listed = pre(_data([(40, 50), (40, 50)]))
    data = _data([(40, 50), (40, 50)])
    data['inputs'] = {m: torch.stack(v) for m, v in data['inputs'].items()}
    stacked = pre(data)
    for m in ('rgb', 'event'):
        torch.testing.assert_close(stacked['inputs'][m], listed['inputs'][m])
    assert [s.pad_shape for s in stacked['data_samples']] == [(64, 64)] * 2


def test_raw_batch_augments_run_on_pixels_in_training_only():
    init_default_scope('mmdet')
    pre = DualModalDetDataPreprocessor(
        mean=[100.] * 3,
        std=[2.] * 3,
        raw_batch_augments=[
            dict(
                type='DualModalBatchYOLOXAugment',
                transforms=[
                    dict(type='RandomFlip', prob=1.0),
                    dict(type='Pad', size=(64, 48), pad_val=dict(img=114))
                ])
        ])
    data = _data([(32, 40), (32, 40)])
    data['inputs']['rgb'][0][:, :, :8] = 200  # left band of sample 0
    for s in data['data_samples']:
        s.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor([[0., 0., 8., 32.]])),
            labels=torch.tensor([0]))
    out = pre(copy.deepcopy(data), training=True)
    rgb = out['inputs']['rgb']
    assert rgb.shape == (2, 3, 48, 64)
    # flipped: the band is on the right of the 40 px frame; pad 114 in
    # pixels, normalised afterwards
    assert torch.all(rgb[0, :, :32, 32:40] == (200 - 100) / 2)
    assert torch.all(rgb[0, :, 40:] == (114 - 100) / 2)
    sample = out['data_samples'][0]
    torch.testing.assert_close(sample.gt_instances.bboxes,
                               torch.tensor([[32., 0., 40., 32.]]))
    assert sample.flip and sample.batch_input_shape == (48, 64)
    # not in validation / testing
    out = pre(copy.deepcopy(data), training=False)
    assert out['inputs']['rgb'].shape == (2, 3, 32, 40)
    assert torch.all(out['inputs']['rgb'][0, :, :, :8] == 50)
    # the mode switch reaches the augmentation
    pre.update_skip_type_keys(['RandomFlip'])
    assert pre.raw_batch_augments[0].skip_type_keys == ('RandomFlip', )
