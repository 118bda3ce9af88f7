import os
import os.path as osp

import pytest

from projects.fred_fusion.fred_fusion.converters import convert_split
from projects.fred_fusion.fred_fusion.datasets import (FREDDataError,
                                                       FREDDataset)


@pytest.fixture
def ann_file(fred_root):
    out = osp.join(fred_root, 'annotations', 'fred_fusion_train.json')
    convert_split(fred_root, 'train', ['1', '2'], out, fusion_threshold=0.05)
    return fred_root, out


def build(root, ann, **kwargs):
    kwargs.setdefault('pipeline', [
        dict(type='LoadFREDImages'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDualModalInputs')
    ])
    return FREDDataset(
        data_root=root, ann_file=ann, data_prefix=dict(img=''), **kwargs)


@pytest.mark.parametrize('modality', ['rgb', 'event', 'dual'])
def test_modalities_pack_what_they_need(ann_file, modality):
    ds = build(*ann_file, modality=modality, use_fusion_info=False)
    assert len(ds) == 12
    out = ds[0]
    expected = {'rgb': {'rgb'}, 'event': {'event'}, 'dual': {'rgb', 'event'}}
    assert set(out['inputs']) == expected[modality]
    for img in out['inputs'].values():
        assert img.shape == (3, 48, 64) and str(img.dtype) == 'torch.uint8'
    sample = out['data_samples']
    assert sample.img_path.endswith('.jpg')
    assert sample.event_path.endswith('.png')
    assert sample.paired is True and sample.img_id == 0
    assert sample.time_diff == pytest.approx(0.002)
    assert sample.gt_instances.bboxes.tensor.tolist() == [[10, 8, 30, 24]]
    assert ds.metainfo['classes'][0] == 'DJI Mini 2'
    assert len(ds.metainfo['palette']) == 5


def test_use_fusion_info_drops_and_counts_unpaired(ann_file):
    root, ann = ann_file
    keep = build(root, ann, use_fusion_info=False)
    drop = build(root, ann, use_fusion_info=True)
    assert len(keep) == 12 and len(drop) == 10
    assert drop.fusion_stats['dropped_unpaired'] == 2
    assert keep.fusion_stats['dropped_unpaired'] == 0
    stats = keep.fusion_stats
    assert (stats['paired'], stats['total']) == (10, 12)
    # sequence 1: 6 x 2 ms; sequence 2: 0, 0, 0, 33.3, 66.7, 100 ms
    mean_ms = (6 * 2 + 200) / 12
    assert stats['mean_abs_time_diff_ms'] == pytest.approx(mean_ms, abs=1e-3)
    assert keep.fusion_stats_str() == (
        f'Fusion: Dual Rate: 10/12 (83.3%), Avg Time Diff: {mean_ms:.2f}ms')
    # re-threshold at load
    loose = build(root, ann, fusion_threshold=0.2)
    assert len(loose) == 12 and loose.fusion_stats['dual_rate'] == 1.0
    tight = build(root, ann, fusion_threshold=0.001)
    assert len(tight) == 3


def test_filter_cfg(ann_file):
    root, ann = ann_file
    ds = build(
        root,
        ann,
        use_fusion_info=False,
        filter_cfg=dict(filter_empty_gt=True, min_size=1))
    assert len(ds) == 10
    assert len(build(root, ann, filter_cfg=dict(min_size=48))) == 10
    assert len(
        build(root, ann, filter_cfg=dict(min_size=49),
              serialize_data=False)) == 0


def test_missing_frame_at_load_names_file(ann_file):
    root, ann = ann_file
    path = osp.join(root, '2', 'Event', 'Frames', 'Video_2_0.png')
    os.remove(path)
    with pytest.raises(FREDDataError, match=f'{path}: frame of entry'):
        build(root, ann, modality='event')
    # RGB-only training does not need the event frames
    assert len(build(root, ann, modality='rgb')) == 10


def test_loader_errors_name_files(ann_file):
    root, ann = ann_file
    ds = build(root, ann, modality='dual', check_files=False)
    info = ds.get_data_info(0)
    with open(info['event_path'], 'rb') as f:
        data = f.read()
    with open(info['event_path'], 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(
            FREDDataError, match=f'{info["event_path"]}: cannot decode'):
        ds[0]
    os.remove(info['event_path'])
    with pytest.raises(FREDDataError, match=f'{info["event_path"]}: cannot'):
        ds[0]
