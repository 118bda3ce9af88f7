"""The batched YOLOX head gives mmdet's YOLOXHead losses and assignments."""
import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from mmengine.structures import InstanceData

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
    feats = [
        torch.randn(4, 16, IMG // s, IMG // s, generator=gen) * 2
        for s in (8, 16, 32)
    ]
    counts = [int(c) for c in torch.randint(0, 9, (4, ), generator=gen)]
    counts[seed % 4] = 0  # an image without objects in every batch
    gts = _random_gts(gen, counts)
    metas = [dict(img_shape=(IMG, IMG))] * 4

    outs = stock(feats)
    ref = stock.loss_by_feat(*outs, gts, metas)
    got = batched.loss_by_feat(*batched(feats), gts, metas)
    assert ref['loss_bbox'] > 0  # the batch has positives
    assert set(ref) == set(got)
    for key in ref:
        torch.testing.assert_close(got[key], ref[key], rtol=1e-5, atol=1e-6)


def test_assignment_matches_stock_per_image():
    stock, batched = _heads(False)
    gen = torch.Generator().manual_seed(42)
    feats = [
        torch.randn(3, 16, IMG // s, IMG // s, generator=gen)
        for s in (8, 16, 32)
    ]
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
