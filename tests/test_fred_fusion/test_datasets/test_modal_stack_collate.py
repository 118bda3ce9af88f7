"""modal_stack_collate: one (N, C, H, W) tensor per modality."""
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import FUNCTIONS

from projects.fred_fusion.fred_fusion.datasets import modal_stack_collate


def sample(h, w, value):
    return dict(
        inputs=dict(
            rgb=torch.full((3, h, w), value, dtype=torch.uint8),
            event=torch.full((3, h, w), value + 1, dtype=torch.uint8)),
        data_samples=DetDataSample(metainfo=dict(img_shape=(h, w))))


def test_equal_frames_are_stacked_others_stay_lists():
    assert FUNCTIONS.get('modal_stack_collate') is modal_stack_collate
    batch = modal_stack_collate([sample(4, 6, 1), sample(4, 6, 2)])
    rgb, event = batch['inputs']['rgb'], batch['inputs']['event']
    assert rgb.shape == event.shape == (2, 3, 4, 6)
    assert rgb.dtype == torch.uint8
    assert rgb[1].unique().tolist() == [2] and event[0].unique().tolist() == [
        2
    ]
    assert len(batch['data_samples']) == 2
    batch = modal_stack_collate([sample(4, 6, 1), sample(5, 6, 2)])
    assert isinstance(batch['inputs']['rgb'], list)
    assert [f.shape[1] for f in batch['inputs']['event']] == [4, 5]
