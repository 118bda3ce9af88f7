"""The batched YOLOX head gives mmdet's YOLOXHead losses and assignments."""
import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from mmengine.structures import InstanceData
from torch.utils._python_dispatch import TorchDispatchMode

from projects.fred_fusion.fred_fusion.models.dense_heads import \
    BatchedYOLOXHead

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
