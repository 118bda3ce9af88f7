import copy
import os
import os.path as osp
import random

import numpy as np
import pytest
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config

from projects.fred_fusion.fred_fusion.converters import convert_split
from projects.fred_fusion.fred_fusion.datasets.transforms.copying import \
    copy_results

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


def textured_dual(root):
    """Dual sample whose event frame differs from the RGB frame."""
    results = dual_results(root)
    rng = np.random.RandomState(0)
    results['event_img'] = rng.randint(0, 256, results['img'].shape, np.uint8)
    return results


@pytest.mark.parametrize('transform,event_overrides', [
    (dict(type='Resize', scale=(50, 70), keep_ratio=False), None),
    (dict(type='Resize', scale=(640, 640), keep_ratio=True), None),
    (dict(type='Resize', scale=(30, 20),
          keep_ratio=True), dict(interpolation='nearest')),
    (dict(type='RandomFlip', prob=0.5), None),
    (dict(
        type='RandomFlip',
        prob=1.0,
        direction=['horizontal', 'vertical', 'diagonal']), None),
    (dict(type='Pad', pad_to_square=True, pad_val=dict(img=114)), None),
    (dict(type='Pad', size_divisor=32,
          pad_val=dict(img=(1, 2, 3))), dict(pad_val=dict(img=(52, 37, 30)))),
    (dict(type='RandomAffine', scaling_ratio_range=(0.1, 2),
          border=(-8, -6)), None),
    (dict(type='RandomAffine', max_rotate_degree=30,
          max_shear_degree=10), dict(border_val=(52, 37, 30))),
])
def test_direct_event_ops_equal_replay(aligned_root, transform,
                                       event_overrides):
    results = textured_dual(aligned_root)
    cfg = dict(
        type='SyncTransform',
        transform=transform,
        event_overrides=event_overrides)
    direct = TRANSFORMS.build(cfg)
    replay = TRANSFORMS.build(dict(cfg, always_replay=True))
    assert direct.event_op is not None and replay.event_op is None
    for seed in range(12):
        outs, states = [], []
        for sync in (direct, replay):
            random.seed(seed)
            np.random.seed(seed)
            outs.append(sync(copy.deepcopy(results)))
            states.append((random.random(), np.random.rand()))
        a, b = outs
        assert a['event_img'].dtype == b['event_img'].dtype
        assert np.array_equal(a['event_img'], b['event_img'])
        assert np.array_equal(a['img'], b['img'])
        assert (a['gt_bboxes'].tensor == b['gt_bboxes'].tensor).all()
        # the same random draws were consumed
        assert states[0] == states[1]
    # the event frame got its own pixels, not the RGB ones
    assert not np.array_equal(a['event_img'], a['img'])


def test_direct_ops_only_for_exact_stock_types():
    sync = TRANSFORMS.build(
        dict(
            type='SyncTransform',
            transform=dict(type='FixShapeResize', width=32, height=32)))
    assert sync.event_op is None
    mosaic = TRANSFORMS.build(
        dict(type='SyncTransform', transform=dict(type='Mosaic')))
    assert mosaic.event_op is None


def test_copy_results_shares_only_images():
    img, event = np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)
    labels = np.array([1, 2])
    boxes = HorizontalBoxes(np.zeros((2, 4), np.float32))
    partner = dict(img=img.copy(), event_img=event.copy(), gt_bboxes=boxes)
    results = dict(
        img=img,
        event_img=event,
        gt_bboxes_labels=labels,
        gt_bboxes=boxes,
        mix_results=[partner])
    out = copy_results(results)
    assert list(out) == list(results)
    assert out['img'] is img and out['event_img'] is event
    assert out['mix_results'][0]['img'] is partner['img']
    assert out['mix_results'][0]['event_img'] is partner['event_img']
    assert out['gt_bboxes_labels'] is not labels
    assert out['gt_bboxes'] is not boxes
    # aliasing is kept, as by copy.deepcopy
    assert out['gt_bboxes'] is out['mix_results'][0]['gt_bboxes']


def test_rgb_only_does_not_write_into_its_input(aligned_root):
    results = dual_results(aligned_root)
    img = results['img']
    before = img.copy()
    hsv = TRANSFORMS.build(
        dict(
            type='RGBOnly',
            transform=dict(type='YOLOXHSVRandomAug', value_delta=80)))
    np.random.seed(1)
    out = hsv(results)
    assert (img == before).all()
    assert not (out['img'] == before).all()


@pytest.mark.parametrize('modality', ['rgb', 'dual'])
def test_mix_dataset_equals_mmdet_wrapper(aligned_root, modality):
    """Less copying and loading, same samples as MultiImageMixDataset."""
    ours = train_dataset(aligned_root, modality)
    cfg = Config.fromfile(CONFIG).train_dataloader.dataset
    cfg = dict(copy.deepcopy(cfg), type='MultiImageMixDataset')
    cfg['dataset'].update(data_root=aligned_root, modality=modality)
    reference = DATASETS.build(cfg)
    loads = []
    load = ours.dataset.pipeline.transforms[0]
    original = load.transform

    def spy(results):
        loads.append(results['img_path'])
        return original(results)

    load.transform = spy
    for seed in range(3):
        outs, states = [], []
        for ds in (ours, reference):
            random.seed(seed)
            np.random.seed(seed)
            outs.append(ds[seed])
            states.append((random.random(), np.random.rand()))
        a, b = outs
        assert set(a['inputs']) == set(b['inputs'])
        for key in a['inputs']:
            assert (a['inputs'][key] == b['inputs'][key]).all()
        assert (a['data_samples'].gt_instances.bboxes.tensor ==
                b['data_samples'].gt_instances.bboxes.tensor).all()
        # the same random draws were consumed
        assert states[0] == states[1]
    # 1 sample + 3 Mosaic + 1 MixUp partner: the partner MixUp inspects
    # is not loaded twice
    assert len(loads) == 3 * 5
