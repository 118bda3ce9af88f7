"""DualModalBatchYOLOXAugment against the pixels, OpenCV and mmdet.

Frames of a few samples with boxes; the device augmentation runs on CPU
tensors (the same code as on a GPU). Geometry is checked by painting one
box at a time into otherwise black frames (pad values 0) and finding where
its pixels land under the same random draws.
"""
import warnings

import cv2
import numpy as np
import pytest
import torch
from mmdet.datasets.transforms import Pad, Resize, YOLOXHSVRandomAug
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmfusion.engine import HostSyncCounter
from projects.fred_fusion.fred_fusion.models import (
    DualModalBatchYOLOXAugment, DualModalDetDataPreprocessor)
from projects.fred_fusion.fred_fusion.models.data_preprocessors import \
    hsv_uint8

H, W = 60, 96  # frame size (already the size that fits SCALE)
SCALE = (96, 96)
PAINT = 200
ALL_STEPS = ('Mosaic', 'RandomAffine', 'MixUp', 'YOLOXHSVRandomAug',
             'RandomFlip', 'Resize', 'Pad', 'FilterAnnotations')


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def steps(*names, pad=0.0, **overrides):
    """Transform configs of the named steps, pad values ``pad``."""
    cfgs = dict(
        Mosaic=dict(type='Mosaic', img_scale=SCALE, pad_val=pad),
        RandomAffine=dict(
            type='RandomAffine',
            scaling_ratio_range=(0.5, 2.0),
            max_rotate_degree=10.0,
            border=(-SCALE[0] // 2, -SCALE[1] // 2),
            border_val=(pad, ) * 3),
        MixUp=dict(
            type='MixUp', img_scale=SCALE, ratio_range=(0.8, 1.6),
            pad_val=pad),
        YOLOXHSVRandomAug=dict(type='YOLOXHSVRandomAug'),
        RandomFlip=dict(type='RandomFlip', prob=0.5),
        Resize=dict(type='Resize', scale=(128, 128), keep_ratio=True),
        Pad=dict(
            type='Pad', pad_to_square=True, pad_val=dict(img=(pad, ) * 3)),
        FilterAnnotations=dict(
            type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False))
    out = []
    for name in names:
        cfg = dict(cfgs[name], **overrides.get(name, {}))
        out.append(cfg)
    return out


def random_boxes(n, per_sample=2, seed=0):
    rng = np.random.RandomState(seed)
    boxes = []
    for _ in range(n):
        wh = rng.uniform(8, 24, (per_sample, 2))
        xy = rng.uniform(2, 1, (per_sample, 2)) * 0 + rng.uniform(
            [2, 2], [W - 26, H - 26], (per_sample, 2))
        boxes.append(np.concatenate([xy, xy + wh], 1).round())
    return boxes


def batch(boxes, paint=None, value=PAINT):
    """Frames (zeros; box ``paint`` = (sample, index), or all boxes,
    painted) and data samples with labels = global box ids."""
    n = len(boxes)
    frames = torch.zeros((n, 3, H, W), dtype=torch.uint8)
    samples, label = [], 0
    for i, b in enumerate(boxes):
        for j, (x1, y1, x2, y2) in enumerate(b.astype(int)):
            if paint is None or paint == (i, j):
                frames[i, :, y1:y2, x1:x2] = value
        ds = DetDataSample(metainfo=dict(img_shape=(H, W)))
        ds.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(b, dtype=torch.float32)),
            labels=torch.arange(label, label + len(b)))
        label += len(b)
        samples.append(ds)
    return dict(rgb=frames, event=frames.clone()), samples


def run(aug, inputs, samples, seed):
    torch.manual_seed(seed)
    return aug(inputs, samples)


def check_boxes_on_pixels(aug, seed, tol=3.0):
    """Every output box holds the pixels of its box, tightly (unless it
    touches the image border: mmdet clips the hull of the projected box,
    which is loose for a rotated box cut by the border); every pixel of a
    box lies in an output box of its label (unless the box was dropped as
    a sliver). Returns the number of boxes checked."""
    boxes = random_boxes(6, seed=seed)
    _, ref = run(aug, *batch(boxes), seed)
    ids = [(i, j) for i, b in enumerate(boxes) for j in range(len(b))]
    seen = 0
    for label, paint in enumerate(ids):
        imgs, _ = run(aug, *batch(boxes, paint), seed)
        for m in ('rgb', 'event'):
            for i, sample in enumerate(ref):
                out_h, out_w = imgs[m].shape[-2:]
                mask = imgs[m][i].amax(0) > 0
                ys, xs = torch.nonzero(mask, as_tuple=True)
                covered = torch.zeros_like(mask)
                gt = sample.gt_instances
                for x1, y1, x2, y2 in gt.bboxes.tensor[gt.labels ==
                                                       label].tolist():
                    seen += 1
                    near = ((xs >= x1 - tol) & (xs < x2 + tol) &
                            (ys >= y1 - tol) & (ys < y2 + tol))
                    assert near.any(), (seed, m, i, label, 'no pixels')
                    covered[ys[near], xs[near]] = True
                    if (min(x1, y1) <= tol or x2 >= out_w - tol
                            or y2 >= out_h - tol):
                        continue
                    px, py = xs[near].float(), ys[near].float()
                    assert abs(px.min() -
                               x1) <= tol and abs(px.max() + 1 - x2) <= tol, (
                                   seed, m, i, label, 'x')
                    assert abs(py.min() -
                               y1) <= tol and abs(py.max() + 1 - y2) <= tol, (
                                   seed, m, i, label, 'y')
                left = mask & ~covered
                if left.any():
                    ly, lx = torch.nonzero(left, as_tuple=True)
                    extent = min(lx.max() - lx.min(), ly.max() - ly.min())
                    assert extent <= 1 + 2 * tol, (seed, m, i, label,
                                                   'pixels outside any box')
    return seen


@pytest.mark.parametrize(
    'names', [('Mosaic', 'FilterAnnotations'),
              ('RandomAffine', 'FilterAnnotations'),
              ('MixUp', 'FilterAnnotations'),
              ('RandomFlip', 'FilterAnnotations'),
              ('Resize', 'Pad', 'FilterAnnotations'),
              ('Mosaic', 'RandomAffine', 'MixUp', 'RandomFlip', 'Resize',
               'Pad', 'FilterAnnotations')],
    ids=lambda n: '+'.join(n[:-1]) if len(n) < 8 else 'all')
def test_boxes_stay_on_their_pixels(names):
    overrides = {}
    if 'Mosaic' not in names:
        # RandomAffine's border is meant for the 2x Mosaic canvas
        overrides['RandomAffine'] = dict(border=(0, 0))
    aug = DualModalBatchYOLOXAugment(steps(*names, **overrides))
    seen = sum(check_boxes_on_pixels(aug, seed) for seed in range(3))
    assert seen > 20


def smooth_frames(n, seed=0):
    """Smooth random BGR frames (n, 3, H, W) uint8: OpenCV's fixed-point
    warps then differ from exact bilinear sampling by a level or two."""
    rng = np.random.RandomState(seed)
    frames = [
        cv2.resize(
            rng.randint(0, 256, (H // 6, W // 6, 3)).astype(np.uint8), (W, H),
            interpolation=cv2.INTER_CUBIC) for _ in range(n)
    ]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


def test_modalities_stay_aligned_and_hsv_touches_rgb_only():
    names = ('Mosaic', 'RandomAffine', 'MixUp', 'YOLOXHSVRandomAug',
             'RandomFlip', 'Resize', 'Pad', 'FilterAnnotations')
    aug = DualModalBatchYOLOXAugment(steps(*names, pad=114.0))
    frames = smooth_frames(6)
    _, samples = batch(random_boxes(6))
    inputs = dict(rgb=frames, event=frames.clone())
    out, _ = run(aug, inputs, samples, 0)
    aug.update_skip_type_keys(['YOLOXHSVRandomAug'])
    _, samples = batch(random_boxes(6))
    plain, _ = run(aug, inputs, samples, 0)
    # same content in -> the same geometry for both; HSV changes RGB only
    assert torch.equal(plain['rgb'], plain['event'])
    assert torch.equal(out['event'], plain['event'])
    changed = (out['rgb'] != plain['rgb']).any(1)
    assert changed.float().mean() > 0.3
    # ... but not the Pad margin (the frames are 128 x 80 there after
    # Mosaic + RandomAffine + Resize to 128: none here, the output is a
    # full 128 x 128 image)
    assert out['rgb'].shape == (6, 3, 128, 128)


def test_hsv_matches_opencv_and_mmdet():
    rng = np.random.RandomState(0)
    # 8-bit BGR -> HSV on random colours, HSV -> BGR on random triples
    bgr = rng.randint(0, 256, (1, 3, 64, 1024))
    hsv = hsv_uint8.bgr_to_hsv_uint8(torch.from_numpy(bgr))
    img = bgr[0].transpose(1, 2, 0).astype(np.uint8)
    ref = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    assert np.array_equal(hsv[0].permute(1, 2, 0).numpy(), ref)
    trip = np.stack([
        rng.randint(0, 180, (64, 1024)),
        rng.randint(0, 256, (64, 1024)),
        rng.randint(0, 256, (64, 1024))
    ], -1).astype(np.uint8)
    back = hsv_uint8.hsv_to_bgr_uint8(
        torch.from_numpy(trip).permute(2, 0, 1)[None])
    ref = cv2.cvtColor(trip, cv2.COLOR_HSV2BGR)
    assert np.array_equal(back[0].permute(1, 2, 0).numpy(), ref)
    # YOLOXHSVRandomAug with the gains it draws
    t = YOLOXHSVRandomAug()
    for seed in range(8):
        np.random.seed(seed)
        gains = t._get_hsv_gains()
        np.random.seed(seed)
        want = t.transform(dict(img=img.copy()))['img']
        got = hsv_uint8.yolox_hsv_shift(
            torch.from_numpy(img).permute(2, 0, 1)[None],
            torch.from_numpy(gains.astype(np.int64))[None])
        assert np.array_equal(got[0].permute(1, 2, 0).numpy(), want), gains


def test_random_affine_pixels_match_opencv():
    aug = DualModalBatchYOLOXAugment(
        steps('RandomAffine', pad=114.0, RandomAffine=dict(border=(0, 0))))
    frames = smooth_frames(4, seed=1)
    inputs, samples = batch(random_boxes(4))
    inputs = dict(rgb=frames)
    out, _ = run(aug, inputs, samples, 3)
    # the matrices of that run: the first draws after seeding
    torch.manual_seed(3)
    u = torch.rand(4, aug.num_draws, dtype=torch.float64)
    size = dict(
        s2h=torch.full((4, ), float(H), dtype=torch.float64),
        s2w=torch.full((4, ), float(W), dtype=torch.float64))
    matrix, _, _ = aug._affine(u, size, torch.zeros(4, 1, 4),
                               torch.ones(4, 1, dtype=torch.bool))
    for i in range(4):
        src = frames[i].permute(1, 2, 0).numpy()
        want = cv2.warpPerspective(
            src, matrix[i].numpy(), (W, H), borderValue=(114, 114, 114))
        diff = np.abs(out['rgb'][i].permute(1, 2, 0).numpy().astype(int) -
                      want.astype(int))
        assert diff.mean() < 0.2 and diff.max() <= 2, i


def test_mode_switch_gives_the_letterboxed_frame():
    names = ('Mosaic', 'RandomAffine', 'MixUp', 'YOLOXHSVRandomAug',
             'RandomFlip', 'Resize', 'Pad', 'FilterAnnotations')
    aug = DualModalBatchYOLOXAugment(
        steps(*names, pad=114.0, RandomFlip=dict(prob=0.0)),
        skip_type_keys=('Mosaic', 'RandomAffine', 'MixUp',
                        'YOLOXHSVRandomAug'))
    frames = smooth_frames(3, seed=2)
    boxes = random_boxes(3)
    _, samples = batch(boxes)
    out, samples = run(aug, dict(rgb=frames, event=frames.clone()), samples, 0)
    resize = Resize(scale=(128, 128), keep_ratio=True)
    pad = Pad(pad_to_square=True, pad_val=dict(img=(114, 114, 114)))
    for i in range(3):
        results = dict(
            img=frames[i].permute(1, 2, 0).numpy().copy(),
            gt_bboxes=HorizontalBoxes(torch.tensor(boxes[i]).float()))
        results = pad(resize(results))
        got = out['rgb'][i].permute(1, 2, 0).numpy()
        assert got.shape == results['img'].shape == (128, 128, 3)
        assert np.abs(got.astype(int) - results['img']).max() <= 1
        assert torch.equal(out['event'][i], out['rgb'][i])
        torch.testing.assert_close(samples[i].gt_instances.bboxes.tensor,
                                   results['gt_bboxes'].tensor)
        assert samples[i].img_shape == (128, 128)
        assert samples[i].scale_factor == pytest.approx((4 / 3, 4 / 3))


@pytest.mark.parametrize('cfgs, match', [
    ([dict(type='RandomFlip', prob=0.5),
      dict(type='Mosaic')], 'in this order'),
    ([dict(type='Expand')], 'in this order'),
    ([dict(type='Mosaic', prob=0.5)], r'Mosaic\(prob < 1\)'),
    ([dict(type='FilterAnnotations', keep_empty=True)], 'keep_empty=False'),
    ([dict(type='RandomFlip', prob=0.5, direction='vertical')
      ], 'horizontally'),
])
def test_unsupported_settings_raise(cfgs, match):
    with pytest.raises(ValueError, match=match):
        DualModalBatchYOLOXAugment(cfgs)


def test_bad_batches_raise():
    aug = DualModalBatchYOLOXAugment(steps('RandomFlip'))
    inputs, samples = batch(random_boxes(2))
    samples[1].ignored_instances = InstanceData(
        bboxes=torch.zeros(1, 4), labels=torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match='sample 1 .* ignored instances'):
        aug(inputs, samples)
    inputs, samples = batch(random_boxes(2))
    inputs['event'] = inputs['event'][:, :, :40]
    with pytest.raises(ValueError, match="exceeds its 'event' frame"):
        aug(inputs, samples)
    inputs, samples = batch(random_boxes(2))
    inputs['event'] = [inputs['event'][0], inputs['event'][1, :, :40]]
    with pytest.raises(ValueError, match='differ in size'):
        aug(inputs, samples)
    with pytest.raises(ValueError, match='unknown step'):
        aug.update_skip_type_keys(['Mosiac'])
    aug = DualModalBatchYOLOXAugment(steps('RandomAffine'))
    with pytest.raises(ValueError, match='meant for the Mosaic canvas'):
        aug(*batch(random_boxes(2)))


def test_mixup_needs_a_partner_with_boxes():
    aug = DualModalBatchYOLOXAugment(steps('MixUp', pad=114.0))
    frames = smooth_frames(3)
    boxes = random_boxes(3)
    boxes[1] = boxes[2] = np.zeros((0, 4))
    _, samples = batch(boxes)
    # sample 0's partners have no boxes: unchanged; the others are mixed
    out, samples = run(aug, dict(rgb=frames), samples, 0)
    assert torch.equal(out['rgb'][0], frames[0])
    assert len(samples[0].gt_instances) == 2
    for i in (1, 2):
        assert not torch.equal(out['rgb'][i], frames[i])
        assert set(samples[i].gt_instances.labels.tolist()) <= {0, 1}


def test_frames_of_several_sizes():
    aug = DualModalBatchYOLOXAugment(
        steps(
            'RandomFlip',
            'Resize',
            'Pad',
            pad=114.0,
            RandomFlip=dict(prob=0.0),
            Pad=dict(pad_to_square=False, size_divisor=32)))
    frames = smooth_frames(2)
    small = frames[1, :, :40, :64].contiguous()
    _, samples = batch(random_boxes(2))
    out, samples = run(aug, dict(rgb=[frames[0], small]), samples, 0)
    assert out['rgb'].shape == (2, 3, 96, 128)
    resize = Resize(scale=(128, 128), keep_ratio=True)
    want = resize(dict(img=small.permute(1, 2, 0).numpy().copy()))['img']
    assert want.shape == (80, 128, 3)
    got = out['rgb'][1, :, :80].permute(1, 2, 0).numpy().astype(int)
    assert np.abs(got - want).max() <= 1
    assert torch.all(out['rgb'][1, :, 80:] == 114)
    assert samples[0].img_shape == (96, 128)
    assert samples[1].img_shape == (96, 128)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='host synchronisations: CUDA')
@pytest.mark.parametrize('padded_gt, num_syncs', [(False, 1), (True, 0)])
def test_one_host_synchronisation_and_few_copies_per_batch_on_cuda(
        padded_gt, num_syncs):
    """Through the data preprocessor as training calls it (frames pinned,
    samples on the host, as collated): the batch costs one host
    synchronisation (the kept box counts; none with ``padded_gt``) and a
    handful of host-to-device copies, whatever the batch size, and
    everything ends on the GPU."""
    from torch.profiler import ProfilerActivity, profile

    names = ('Mosaic', 'RandomAffine', 'MixUp', 'YOLOXHSVRandomAug',
             'RandomFlip', 'Resize', 'Pad', 'FilterAnnotations')
    pre = DualModalDetDataPreprocessor(
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        non_blocking=True,
        raw_batch_augments=[
            dict(
                type='DualModalBatchYOLOXAugment',
                transforms=steps(*names, pad=114.0),
                padded_gt=padded_gt)
        ]).cuda()

    def collated(n):
        inputs, samples = batch(random_boxes(n))
        for ds in samples:
            ds.ignored_instances = InstanceData(
                bboxes=HorizontalBoxes(torch.zeros((0, 4))),
                labels=torch.zeros((0, ), dtype=torch.long))
        inputs = {m: v.pin_memory() for m, v in inputs.items()}
        return dict(inputs=inputs, data_samples=samples)

    torch.manual_seed(0)
    pre(collated(16), True)  # tables to the GPU
    torch.cuda.synchronize()
    copies = {}
    for n in (16, 32):
        data = collated(n)
        torch.cuda.set_sync_debug_mode('warn')
        try:
            with warnings.catch_warnings(record=True) as record, profile(
                    activities=[ProfilerActivity.CPU]) as prof:
                warnings.simplefilter('always')
                out = pre(data, True)
        finally:
            torch.cuda.set_sync_debug_mode('default')
        syncs = [w for w in record if 'synchroniz' in str(w.message)]
        assert len(syncs) == num_syncs, [str(w.message) for w in syncs]
        copies[n] = sum(e.count for e in prof.key_averages()
                        if e.key == 'cudaMemcpyAsync')
        assert all(t.is_cuda for t in out['inputs'].values())
        for ds in out['data_samples']:
            for key in ('gt_instances', 'ignored_instances'):
                assert ds.get(key).bboxes.is_cuda
                assert ds.get(key).labels.is_cuda
    assert copies[16] == copies[32] <= 16, copies


def padded_and_unpadded(names, seed, n=6, ignored=False, **overrides):
    """The same batch augmented with ``padded_gt`` off and on (same seed):
    (frames, samples) of each."""
    outs = []
    for padded_gt in (False, True):
        aug = DualModalBatchYOLOXAugment(
            steps(*names, pad=114.0, **overrides), padded_gt=padded_gt)
        inputs, samples = batch(random_boxes(n, per_sample=3, seed=seed))
        inputs = dict(rgb=smooth_frames(n, seed), event=inputs['event'])
        if ignored:
            for ds in samples:
                ds.ignored_instances = InstanceData(
                    bboxes=HorizontalBoxes(torch.zeros((0, 4))),
                    labels=torch.zeros((0, ), dtype=torch.long))
        outs.append(run(aug, inputs, samples, seed))
    return outs


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize(
    'names', [ALL_STEPS, ('RandomFlip', 'Resize', 'Pad', 'FilterAnnotations')],
    ids=['all', 'letterbox'])
def test_padded_gt_gives_the_boxes_of_the_unpadded_mode(names, seed):
    """The valid slots are the unpadded mode's boxes, in order, then zero
    slots; every sample has the batch's G slots; ``flip`` is the same, a
    0-dim bool tensor; frames and the other meta information are the
    same."""
    (ref_imgs, ref), (imgs, got) = padded_and_unpadded(
        names, seed, ignored=True)
    for m in ref_imgs:
        assert torch.equal(imgs[m], ref_imgs[m])
    slots = {len(ds.gt_instances) for ds in got}
    assert len(slots) == 1 and slots.pop() >= max(
        len(ds.gt_instances) for ds in ref)
    for want, ds in zip(ref, got):
        gt, n = ds.gt_instances, len(want.gt_instances)
        assert isinstance(gt.bboxes, HorizontalBoxes)
        assert gt.valid.dtype == torch.bool
        assert gt.valid[:n].all() and not gt.valid[n:].any()
        assert torch.equal(gt.bboxes.tensor[:n],
                           want.gt_instances.bboxes.tensor)
        assert torch.equal(gt.labels[:n], want.gt_instances.labels)
        assert not gt.bboxes.tensor[n:].any() and not gt.labels[n:].any()
        assert len(ds.ignored_instances) == 0
        assert isinstance(ds.flip, torch.Tensor) and ds.flip.dim() == 0
        assert ds.flip.dtype == torch.bool and bool(ds.flip) == want.flip
        assert ds.flip_direction == 'horizontal'
        assert want.flip_direction == ('horizontal' if want.flip else None)
        assert ds.img_shape == want.img_shape
        assert ds.scale_factor == want.scale_factor
    assert any(ds.flip for ds in ref) and not all(ds.flip for ds in ref)
    # views of the batch's tensors, not a copy per sample
    for key in ('bboxes', 'labels', 'valid'):
        storages = {
            get_box_tensor(
                ds.gt_instances.get(key)).untyped_storage().data_ptr()
            for ds in got
        }
        assert len(storages) == 1, key
    assert len({ds.flip.untyped_storage().data_ptr() for ds in got}) == 1


@pytest.mark.parametrize('seed', range(3))
def test_padded_gt_gives_the_head_losses_of_the_unpadded_mode(seed):
    from projects.fred_fusion.fred_fusion.models.dense_heads import \
        BatchedYOLOXHead
    torch.manual_seed(0)
    head = BatchedYOLOXHead(**head_cfg())
    head.use_l1 = True
    feats = [torch.randn(6, 16, 128 // s, 128 // s) for s in (8, 16, 32)]
    outs = head(feats)
    losses = []
    for _, samples in padded_and_unpadded(ALL_STEPS, seed):
        losses.append(
            head.loss_by_feat(*outs, [ds.gt_instances for ds in samples],
                              [ds.metainfo for ds in samples]))
    ref, got = losses
    assert ref['loss_bbox'] > 0 and set(ref) == set(got)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-6, atol=0)


def head_cfg():
    return dict(
        num_classes=20,  # the labels of ``batch`` are global box ids
        in_channels=16,
        feat_channels=16,
        stacked_convs=1,
        train_cfg=dict(
            assigner=dict(type='SimOTAAssigner', center_radius=2.5)))


@pytest.mark.parametrize('padded_gt', [False, True])
def test_padded_gt_and_batched_head_read_nothing_on_the_host(padded_gt):
    """The augmentation with ``padded_gt`` and the batched head's loss read
    no value on the host (on a GPU the host queues both without waiting);
    without ``padded_gt`` the counts and flips are read."""
    from projects.fred_fusion.fred_fusion.models.dense_heads import \
        BatchedYOLOXHead
    torch.manual_seed(0)
    head = BatchedYOLOXHead(**head_cfg())
    head.use_l1 = True
    outs = head([torch.randn(6, 16, 128 // s, 128 // s) for s in (8, 16, 32)])
    aug = DualModalBatchYOLOXAugment(
        steps(*ALL_STEPS, pad=114.0), padded_gt=padded_gt)
    inputs, samples = batch(random_boxes(6, per_sample=3))
    torch.manual_seed(1)
    with HostSyncCounter() as syncs:
        _, samples = aug(inputs, samples)
        losses = head.loss_by_feat(*outs, [ds.gt_instances for ds in samples],
                                   [ds.metainfo for ds in samples])
    if padded_gt:
        assert syncs.total == 0, syncs.summary()
    else:
        assert syncs.total == 1, syncs.summary()
        assert '_pack' in syncs.records[0][1]
    assert losses['loss_bbox'] > 0
