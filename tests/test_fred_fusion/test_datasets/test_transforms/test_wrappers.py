# Copyright (c) OpenMMLab. All rights reserved.
import copy
import os
import os.path as osp
import random

import numpy as np
import pytest
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config

from projects.fred_fusion.fred_fusion.datasets import convert_split

REPO = osp.abspath(osp.join(osp.dirname(__file__), *['..'] * 4))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion', '_base_', 'datasets',
                  'fred_sample.py')


@pytest.fixture(scope='module')
def aligned_root(tmp_path_factory, fred_layout):
    """One sequence whose event frames hold exactly the RGB pixels."""
    root = str(tmp_path_factory.mktemp('aligned'))
    times = [i / 30 for i in range(8)]
    lines = [
        f'{t:.6f}: {4 + i}, 6, {30 + 2 * i}, 30, 1, DJI Mini 3\n'
        f'{t:.6f}: 40, {10 + i}, 60, 40, 2, Betafpv air75'
        for i, t in enumerate(times)
    ]
    fred_layout.write_sequence(
        root,
        '1',
        times, [round(t * 1e6) + 1000 for t in times],
        ann_lines=lines)
    fred_layout.write_splits(root, dict(train=['1'], test=['1']))
    convert_split(root, 'train', ['1'],
                  osp.join(root, 'annotations', 'fred_fusion_train.json'))
    return root


def train_dataset(root, modality='dual'):
    cfg = Config.fromfile(CONFIG)
    ds = copy.deepcopy(cfg.train_dataloader.dataset)
    ds.dataset.update(data_root=root, modality=modality)
    return DATASETS.build(ds)


def misaligned_values(rgb, event):
    """Event values whose pixels do not map to one RGB value.

    Gray frames keep gray under HSV jitter, which then maps each value by
    one function; any geometric misalignment breaks that function.
    """
    r, e = rgb[0].ravel(), event[0].ravel()
    return sum(len(np.unique(r[e == v])) > 1 for v in np.unique(e))


def test_full_train_pipeline_keeps_modalities_aligned(aligned_root):
    ds = train_dataset(aligned_root)
    assert ds.pipeline_types[:3] == ['Mosaic', 'RandomAffine', 'MixUp']
    flips = 0
    for seed in range(20):
        random.seed(seed)
        np.random.seed(seed)
        out = ds[seed % len(ds)]
        rgb = out['inputs']['rgb'].numpy()
        event = out['inputs']['event'].numpy()
        assert rgb.shape == event.shape == (3, 640, 640)
        assert misaligned_values(rgb, event) == 0
        sample = out['data_samples']
        assert len(sample.gt_instances) > 0
        flips += sample.flip
    assert 0 < flips < 20
    # the check fails on misaligned frames
    assert misaligned_values(rgb, event[:, :, ::-1]) > 0


def test_single_modality_runs_transforms_once(aligned_root):
    random.seed(3)
    np.random.seed(3)
    rgb_out = train_dataset(aligned_root, 'rgb')[3]
    random.seed(3)
    np.random.seed(3)
    dual_out = train_dataset(aligned_root, 'dual')[3]
    assert set(rgb_out['inputs']) == {'rgb'}
    # same draws: the dual sample's RGB frame equals the RGB-only one
    assert (rgb_out['inputs']['rgb'] == dual_out['inputs']['rgb']).all()
    assert (rgb_out['data_samples'].gt_instances.bboxes.tensor ==
            dual_out['data_samples'].gt_instances.bboxes.tensor).all()


def test_mode_switch_skips_wrapped_types(aligned_root):
    ds = train_dataset(aligned_root)
    # what YOLOXModeSwitchHook calls in the last epochs
    ds.update_skip_type_keys(['Mosaic', 'RandomAffine', 'MixUp'])
    calls = []
    for transform, kind in zip(ds.pipeline, ds.pipeline_types):
        original = transform.transform

        def spy(results, original=original, kind=kind):
            calls.append(kind)
            return original(results)

        transform.transform = spy
    np.random.seed(0)
    out = ds[0]
    assert calls == [
        'YOLOXHSVRandomAug', 'RandomFlip', 'Resize', 'Pad',
        'FilterAnnotations', 'PackDualModalInputs'
    ]
    # without Mosaic / RandomAffine the boxes are the resized originals
    expected = np.array([40., 60., 300., 300.])
    if out['data_samples'].flip:
        expected[[0, 2]] = 640 - expected[[2, 0]]
    boxes = out['data_samples'].gt_instances.bboxes.tensor.numpy()
    np.testing.assert_allclose(boxes[0], expected, atol=1e-4)


def dual_results(root, name='Video_1_1000.png'):
    load = TRANSFORMS.build(dict(type='LoadFREDImages', modality='dual'))
    rgb_dir = osp.join(root, '1', 'RGB')
    results = dict(
        img_path=osp.join(rgb_dir,
                          sorted(os.listdir(rgb_dir))[0]),
        event_path=osp.join(root, '1', 'Event', 'Frames', name),
        gt_bboxes=np.array([[4, 6, 30, 30]], np.float32),
        gt_bboxes_labels=np.array([1]),
        gt_ignore_flags=np.array([False]))
    results = load(results)
    results['gt_bboxes'] = HorizontalBoxes(results['gt_bboxes'])
    return results


def test_photometric_leaves_event_untouched(aligned_root):
    results = dual_results(aligned_root)
    event = results['event_img'].copy()
    rgb = results['img'].copy()
    hsv = TRANSFORMS.build(
        dict(
            type='RGBOnly',
            transform=dict(
                type='YOLOXHSVRandomAug', value_delta=80, saturation_delta=0)))
    np.random.seed(1)
    out = hsv(results)
    assert (out['event_img'] == event).all()
    assert not (out['img'] == rgb).all()
    event_only = dict(results, modality='event', img=event.copy())
    event_only.pop('event_img')
    assert (hsv(event_only)['img'] == event).all()
    with pytest.raises(RuntimeError, match='changed the image shape'):
        TRANSFORMS.build(
            dict(
                type='RGBOnly', transform=dict(type='Resize',
                                               scale=(32, 32))))(
                                                   results)


@pytest.mark.parametrize('transform', [
    dict(type='RandomCrop', crop_size=(20, 30), allow_negative_crop=True),
    dict(type='RandomFlip', prob=1.0, direction='vertical'),
    dict(type='Resize', scale=(50, 70), keep_ratio=False),
])
def test_sync_of_other_transforms(aligned_root, transform):
    results = dual_results(aligned_root)
    sync = TRANSFORMS.build(dict(type='SyncTransform', transform=transform))
    for seed in range(3):
        np.random.seed(seed)
        out = sync(copy.deepcopy(results))
        assert (out['img'] == out['event_img']).all()


def test_sync_event_overrides_pad_value(aligned_root):
    results = dual_results(aligned_root)
    sync = TRANSFORMS.build(
        dict(
            type='SyncTransform',
            transform=dict(type='Pad', size=(64, 80), pad_val=dict(img=114)),
            event_overrides=dict(pad_val=dict(img=(52, 37, 30)))))
    out = sync(results)
    assert out['img'].shape == out['event_img'].shape == (80, 64, 3)
    assert (out['img'][-1, -1] == 114).all()
    assert out['event_img'][-1, -1].tolist() == [52, 37, 30]
