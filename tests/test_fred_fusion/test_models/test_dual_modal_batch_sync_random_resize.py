"""The multi-scale resize of every modality matches mmdet's
BatchSyncRandomResize on the first and resizes the others alike."""
import random

import pytest
import torch
from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData

from projects.fred_fusion.fred_fusion.models.data_preprocessors import \
    DualModalBatchSyncRandomResize


def samples(n: int, box_type: bool, seed: int):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        ds = DetDataSample()
        boxes = torch.rand(i % 3, 4, generator=gen) * 60
        ignored = torch.rand(1 if i == 1 else 0, 4, generator=gen) * 60
        wrap = HorizontalBoxes if box_type else (lambda t: t)
        ds.gt_instances = InstanceData(
            bboxes=wrap(boxes), labels=torch.zeros(len(boxes)).long())
        ds.ignored_instances = InstanceData(
            bboxes=wrap(ignored), labels=torch.zeros(len(ignored)).long())
        ds.set_metainfo(
            dict(
                img_shape=(60, 90),
                pad_shape=(64, 96),
                batch_input_shape=(64, 96)))
        out.append(ds)
    return out


@pytest.mark.parametrize('box_type', [False, True])
def test_matches_mmdet_over_size_changes(box_type):
    settings = dict(random_size_range=(32, 128), size_divisor=32, interval=2)
    stock = BatchSyncRandomResize(**settings)
    dual = DualModalBatchSyncRandomResize(**settings)
    hub = MessageHub.get_current_instance()
    sizes = set()
    for it in range(12):
        hub.update_info('iter', it)
        gen = torch.Generator().manual_seed(it)
        x = torch.rand(4, 3, 64, 96, generator=gen)
        # the stock module scales tensors only (the data preprocessor
        # converts box structures first); this one scales both
        ref_samples = samples(4, False, it)
        got_samples = samples(4, box_type, it)
        random.seed(it)
        ref_x, ref_samples = stock(x.clone(), ref_samples)
        random.seed(it)
        got, got_samples = dual(
            dict(rgb=x.clone(), event=x.flip(1)), got_samples)
        sizes.add(tuple(ref_x.shape[-2:]))
        torch.testing.assert_close(got['rgb'], ref_x)
        # the other modality got the same resize
        torch.testing.assert_close(got['event'], ref_x.flip(1))
        for r, g in zip(ref_samples, got_samples):
            assert g.metainfo == r.metainfo
            for key in ('gt_instances', 'ignored_instances'):
                rb, gb = r.get(key).bboxes, g.get(key).bboxes
                assert isinstance(gb, HorizontalBoxes) == box_type
                torch.testing.assert_close(getattr(gb, 'tensor', gb), rb)
        assert stock._input_size == dual._input_size
    assert len(sizes) > 2  # the run went through several sizes


def test_modalities_of_different_sizes_raise():
    MessageHub.get_current_instance().update_info('iter', 0)
    resize = DualModalBatchSyncRandomResize(random_size_range=(32, 64))
    with pytest.raises(ValueError, match="'event' batch"):
        resize(
            dict(rgb=torch.rand(1, 3, 32, 32), event=torch.rand(1, 3, 64, 32)),
            None)
