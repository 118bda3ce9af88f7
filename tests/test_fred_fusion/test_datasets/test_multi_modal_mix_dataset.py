"""The FRED training pipeline (Mosaic, RandomAffine, MixUp, HSV, flip on
RGB + event frames, through MultiModalMixDataset) with the configs'
ResumableBatchSampler: the partner indices the mixing transforms draw and
every augmentation are the same with or without (persistent) workers, so
that a run resumed inside an epoch sees the batches of the interrupted
one."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import projects.fred_fusion.fred_fusion as fred_fusion
from projects.fred_fusion.fred_fusion.converters import (convert_split,
                                                         read_split_file)
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
DATASET_CONFIG = osp.join(REPO, 'configs', 'fred_fusion', '_base_', 'datasets',
                          'fred_sample.py')
SCALE = 96


@pytest.fixture(scope='module')
def train_loader_cfg(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('fred_mix'))
    generate_fred_sample(root, preset='tiny', seed=0)
    seqs = read_split_file(osp.join(root, 'dataset_splits', 'train_split.txt'))
    convert_split(root, 'train', seqs,
                  osp.join(root, 'annotations', 'fred_fusion_train.json'))
    fred_fusion.register_all_modules()
    init_default_scope('mmdet')
    cfg = Config.fromfile(DATASET_CONFIG).train_dataloader
    cfg.dataset.dataset.data_root = root
    for t in cfg.dataset.pipeline:
        t = t.get('transform', t)
        for key in ('img_scale', 'scale'):
            if key in t:
                t[key] = (SCALE, SCALE)
        if 'border' in t:
            t['border'] = (-SCALE // 2, -SCALE // 2)
    cfg.batch_size = 3
    return cfg.to_dict()


def _epochs(cfg: dict, num_workers: int, persistent: bool) -> list:
    loader = Runner.build_dataloader(
        dict(cfg, num_workers=num_workers, persistent_workers=persistent),
        seed=3)
    epochs = []
    for epoch in range(2):
        loader.batch_sampler.sampler.set_epoch(epoch)
        epochs.append([
            (batch['inputs'],
             [s.gt_instances.bboxes.tensor for s in batch['data_samples']])
            for batch in loader
        ])
    return epochs


def _assert_equal(a, b) -> None:
    if torch.is_tensor(a):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_equal(a[key], b[key])
    else:
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_equal(x, y)


def test_mixing_pipeline_is_the_same_with_any_workers(train_loader_cfg):
    expected = _epochs(train_loader_cfg, 0, False)
    assert len(expected[0]) >= 4
    inputs = expected[0][0][0]
    assert set(inputs) == {'rgb', 'event'}
    assert inputs['rgb'][0].shape[-2:] == (SCALE, SCALE)
    # the two epochs were augmented differently
    assert not torch.equal(inputs['rgb'][0], expected[1][0][0]['rgb'][0])
    _assert_equal(_epochs(train_loader_cfg, 2, True), expected)
