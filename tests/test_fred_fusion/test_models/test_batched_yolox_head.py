"""The batched YOLOX head gives mmdet's YOLOXHead losses and assignments."""
import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData
from torch.utils._python_dispatch import TorchDispatchMode

from mmfusion.engine import HostSyncCounter
from projects.fred_fusion.fred_fusion.models.dense_heads import \
    BatchedYOLOXHead
from projects.fred_fusion.fred_fusion.models.utils import pad_ground_truth

HEAD = dict(
    num_classes=5,
    in_channels=16,
    feat_channels=16,
    stacked_convs=1,
    train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)))
IMG = 128


def _random_gts(gen: torch.Generator, counts):
    gts = []
    for n in counts:
        xy = torch.rand(n, 2, generator=gen) * (IMG - 24)
        wh = 4 + torch.rand(n, 2, generator=gen) * 40
        boxes = torch.cat([xy, (xy + wh).clamp(max=IMG)], dim=1)
        labels = torch.randint(0, 5, (n, ), generator=gen)
        gts.append(InstanceData(bboxes=boxes, labels=labels))
    return gts


def _feats(gen: torch.Generator, n: int, scale: float = 1.0):
    """Random neck features of ``n`` images at strides 8, 16 and 32."""
    return [
        torch.randn(n, 16, IMG // s, IMG // s, generator=gen) * scale
        for s in (8, 16, 32)
    ]


def _heads(use_l1: bool):
    torch.manual_seed(0)
    stock = YOLOXHead(**HEAD)
    batched = BatchedYOLOXHead(**HEAD)
    batched.load_state_dict(stock.state_dict())
    stock.use_l1 = batched.use_l1 = use_l1
    return stock, batched


@pytest.mark.parametrize('use_l1', [False, True])
@pytest.mark.parametrize('seed', range(6))
def test_losses_match_stock_head(seed, use_l1):
    stock, batched = _heads(use_l1)
    gen = torch.Generator().manual_seed(seed)
    feats = _feats(gen, 4, scale=2)
    counts = [int(c) for c in torch.randint(0, 9, (4, ), generator=gen)]
    counts[seed % 4] = 0  # an image without objects in every batch
    gts = _random_gts(gen, counts)
    metas = [dict(img_shape=(IMG, IMG))] * 4

    feats_ref = [f.clone().requires_grad_(True) for f in feats]
    feats_got = [f.clone().requires_grad_(True) for f in feats]
    ref = stock.loss_by_feat(*stock(feats_ref), gts, metas)
    got = batched.loss_by_feat(*batched(feats_got), gts, metas)
    assert ref['loss_bbox'] > 0  # the batch has positives
    assert set(ref) == set(got)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-5, atol=1e-6)
    # and the same gradients
    sum(ref.values()).backward()
    sum(got.values()).backward()
    for a, b in zip(feats_got, feats_ref):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-7)


def test_assignment_matches_stock_per_image():
    stock, batched = _heads(False)
    gen = torch.Generator().manual_seed(42)
    feats = _feats(gen, 3)
    gts = _random_gts(gen, [5, 1, 12])
    cls, bbox, obj = stock(feats)
    sizes = [c.shape[2:] for c in cls]
    priors = torch.cat(
        stock.prior_generator.grid_priors(
            sizes, device='cpu', with_stride=True))
    flat = [
        torch.cat(
            [x.permute(0, 2, 3, 1).reshape(3, -1, x.size(1)) for x in xs], 1)
        for xs in (cls, bbox, obj)
    ]
    boxes = stock._bbox_decode(priors, flat[1])
    pos_mask, *_ = batched._get_targets_batched(priors, flat[0], boxes,
                                                flat[2][..., 0], gts)
    for i in range(3):
        fg, *_ = stock._get_targets_single(priors, flat[0][i], boxes[i],
                                           flat[2][i, :, 0], gts[i],
                                           dict(img_shape=(IMG, IMG)))
        assert fg.any()
        assert torch.equal(pos_mask[i], fg)


def test_no_ground_truth_keeps_graph():
    _, batched = _heads(True)
    feats = [torch.randn(2, 16, IMG // s, IMG // s) for s in (8, 16, 32)]
    for f in feats:
        f.requires_grad_(True)
    losses = batched.loss_by_feat(
        *batched(feats), _random_gts(torch.Generator().manual_seed(0), [0, 0]),
        [{}] * 2)
    assert losses['loss_cls'].item() == 0
    sum(losses.values()).backward()
    assert all(f.grad is not None for f in feats)


class _Ops(TorchDispatchMode):
    """Records the aten operators that run (and their arguments)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.calls.append((func, args))
        return func(*args, **(kwargs or {}))


def _host_syncs(calls):
    """Operators that need a value on the host: data-dependent shapes
    (boolean indexing, nonzero) and scalar reads."""
    found = []
    for func, args in calls:
        name = func.overloadpacket.__name__
        if name in ('nonzero', 'masked_select', '_local_scalar_dense',
                    'is_nonzero', 'unique', '_unique2'):
            found.append(name)
        elif name in ('index', 'index_put', 'index_put_') and any(
                isinstance(i, torch.Tensor) and i.dtype == torch.bool
                for i in (args[1] if len(args) > 1 else ()) or ()
                if i is not None):
            found.append(f'{name} with a bool mask')
    return found


@pytest.mark.parametrize('use_l1', [False, True])
def test_loss_needs_no_host_synchronisation(use_l1):
    """The loss reads no value of the batch on the host, so on a GPU the
    host queues it without waiting; the stock head does (the check finds
    its boolean indexing)."""
    stock, batched = _heads(use_l1)
    gen = torch.Generator().manual_seed(3)
    feats = _feats(gen, 3)
    gts = _random_gts(gen, [4, 0, 7])
    metas = [dict(img_shape=(IMG, IMG))] * 3
    for head, expect_syncs in ((stock, True), (batched, False)):
        outs = head(feats)
        with _Ops() as ops:
            losses = head.loss_by_feat(*outs, gts, metas)
        assert bool(_host_syncs(
            ops.calls)) == expect_syncs, (type(head).__name__,
                                          _host_syncs(ops.calls))
    assert losses['loss_bbox'] > 0


def test_diverging_negatives_keep_the_loss_finite():
    """A prior that is not assigned a box may predict anything (a box
    decoded to inf): as in the stock head, it changes neither the box and
    class losses nor the gradients."""
    stock, batched = _heads(True)
    gen = torch.Generator().manual_seed(5)
    feats = _feats(gen, 2)
    gts = _random_gts(gen, [2, 3])
    metas = [dict(img_shape=(IMG, IMG))] * 2
    cls, bbox, obj = batched(feats)
    cls, obj = [c.detach() for c in cls], [o.detach() for o in obj]
    # the last prior of the coarsest level, far from the random boxes'
    # centre regions: exp(1000) = inf
    bbox = [b.detach().clone() for b in bbox]
    bbox[2][:, 2:, -1, -1] = 1000.0
    grads = []
    for head in (stock, batched):
        inputs = [b.clone().requires_grad_(True) for b in bbox]
        losses = head.loss_by_feat(cls, inputs, obj, gts, metas)
        (losses['loss_bbox'] + losses['loss_l1']).backward()
        grads.append([b.grad for b in inputs])
        for key in ('loss_cls', 'loss_bbox', 'loss_l1'):
            assert torch.isfinite(losses[key]), (type(head).__name__, key)
    for got, ref in zip(grads[1], grads[0]):
        torch.testing.assert_close(got, ref, equal_nan=True)


def _padded(gts, slots: int, gen: torch.Generator):
    """``gts`` padded to ``slots`` with a ``valid`` field (as
    ``DualModalBatchYOLOXAugment(padded_gt=True)`` gives them), the padding
    slots filled with junk (large, inverted boxes and labels) that must not
    count."""
    out = []
    for gt in gts:
        n = len(gt)
        junk = torch.rand(slots - n, 4, generator=gen) * -1e4
        out.append(
            InstanceData(
                bboxes=torch.cat([gt.bboxes, junk]),
                labels=torch.cat([
                    gt.labels,
                    torch.full((slots - n, ), 99, dtype=torch.long)
                ]),
                valid=torch.arange(slots) < n))
    return out


@pytest.mark.parametrize('use_l1', [False, True])
@pytest.mark.parametrize('seed', range(3))
def test_padded_ground_truths_give_the_same_losses(seed, use_l1):
    _, batched = _heads(use_l1)
    gen = torch.Generator().manual_seed(seed)
    feats = _feats(gen, 4, scale=2)
    counts = [int(c) for c in torch.randint(0, 9, (4, ), generator=gen)]
    counts[seed % 4] = 0
    gts = _random_gts(gen, counts)
    padded = _padded(gts, 12, gen)
    metas = [dict(img_shape=(IMG, IMG))] * 4
    feats_ref = [f.clone().requires_grad_(True) for f in feats]
    feats_got = [f.clone().requires_grad_(True) for f in feats]
    ref = batched.loss_by_feat(*batched(feats_ref), gts, metas)
    got = batched.loss_by_feat(*batched(feats_got), padded, metas)
    assert ref['loss_bbox'] > 0 and set(ref) == set(got)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-6, atol=0)
    sum(ref.values()).backward()
    sum(got.values()).backward()
    for a, b in zip(feats_got, feats_ref):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-8)


def test_pad_ground_truth_stacks_padded_inputs_without_host_reads():
    gen = torch.Generator().manual_seed(0)
    gts = _random_gts(gen, [3, 0, 5])
    padded = _padded(gts, 7, gen)
    padded[0].bboxes = HorizontalBoxes(padded[0].bboxes)  # any box type
    for gt in padded[1:]:
        gt.bboxes = HorizontalBoxes(gt.bboxes)
    with HostSyncCounter() as syncs:
        boxes, labels, valid = pad_ground_truth(padded, torch.float64,
                                                torch.device('cpu'))
    assert syncs.total == 0, syncs.summary()
    assert boxes.shape == (3, 7, 4) and boxes.dtype == torch.float64
    assert labels.shape == valid.shape == (3, 7)
    ref = pad_ground_truth(gts, torch.float64, torch.device('cpu'))
    for i, n in enumerate([3, 0, 5]):
        assert valid[i, :n].all() and not valid[i, n:].any()
        assert torch.equal(boxes[i, :n], ref[0][i, :n])
        assert torch.equal(labels[i, :n], ref[1][i, :n])
    # the padding slots are zero, whatever they held
    assert not boxes[~valid].any() and not labels[~valid].any()


def test_pad_ground_truth_of_padded_inputs_of_other_lengths():
    gen = torch.Generator().manual_seed(1)
    gts = _random_gts(gen, [2, 4])
    padded = [_padded(gts[:1], 3, gen)[0], _padded(gts[1:], 6, gen)[0]]
    boxes, labels, valid = pad_ground_truth(padded, torch.float32,
                                            torch.device('cpu'))
    ref = pad_ground_truth(gts, torch.float32, torch.device('cpu'))
    assert boxes.shape == (2, 6, 4)
    assert torch.equal(valid[:, :4], ref[2])
    assert not valid[:, 4:].any()
    assert torch.equal(boxes[:, :4], ref[0]) and not boxes[:, 4:].any()
    assert torch.equal(labels[:, :4], ref[1]) and not labels[:, 4:].any()
    # no slot at all: one invalid slot, as for unpadded inputs
    empty = _padded(_random_gts(gen, [0, 0]), 0, gen)
    boxes, labels, valid = pad_ground_truth(empty, torch.float32,
                                            torch.device('cpu'))
    assert boxes.shape == (2, 1, 4) and not valid.any()


def test_pad_ground_truth_refuses_padded_and_unpadded_together():
    gen = torch.Generator().manual_seed(2)
    gts = _random_gts(gen, [2, 3, 1])
    mixed = [gts[0]] + _padded(gts[1:], 4, gen)
    with pytest.raises(
            ValueError,
            match=r'mixes padded .*images \[1, 2\]'
            r'.*unpadded .*images \[0\]'):
        pad_ground_truth(mixed, torch.float32, torch.device('cpu'))
