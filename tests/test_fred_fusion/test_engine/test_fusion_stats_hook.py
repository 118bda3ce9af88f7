"""FusionStatsHook with the real Runner and real FREDDataset objects read
from small fusion annotation files."""
import csv
import json
import uuid
from pathlib import Path
from typing import List

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import METRICS, MODELS
from mmengine.runner import Runner

import projects.fred_fusion.fred_fusion.datasets  # noqa: F401
from projects.fred_fusion.fred_fusion.engine.hooks.fusion_stats_hook import \
    find_fusion_stats

THRESHOLD = 0.02


@MODELS.register_module()
class FusionStatsToyModel(BaseModel):
    """Ignores the FRED data infos; a scalar loss keeps training going."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, mode: str = 'tensor', **data_infos):
        if mode == 'loss':
            return dict(loss=(self.w**2).sum())
        return [dict(pred=0) for _ in data_infos['img_id']]


@METRICS.register_module()
class FusionStatsToyMetric(BaseMetric):
    """Counts validation samples."""

    def process(self, data_batch, data_samples) -> None:
        """Collect samples."""
        self.results.extend(data_samples)

    def compute_metrics(self, results: list) -> dict:
        """Return ``dict(count=...)``."""
        return dict(count=len(results))


def _write_ann(path: Path, time_diffs: List[float]) -> str:
    data_list = [
        dict(
            img_id=i,
            img_path=f'1/RGB/{i}.jpg',
            event_path=f'1/Event/Frames/{i}.png',
            time_diff=diff,
            height=48,
            width=64,
            instances=[
                dict(bbox=[1., 1., 9., 9.], bbox_label=0, ignore_flag=0)
            ]) for i, diff in enumerate(time_diffs)
    ]
    with open(path, 'w') as f:
        json.dump(
            dict(
                metainfo=dict(classes=['drone'], fusion_threshold=THRESHOLD),
                data_list=data_list), f)
    return str(path)


def _fred(ann_file: str, **kwargs) -> dict:
    return dict(
        type='FREDDataset',
        ann_file=ann_file,
        modality='dual',
        use_fusion_info=False,
        check_files=False,
        pipeline=[],
        **kwargs)


def _cfg(tmp_path: Path, work_dir: Path, max_epochs: int) -> Config:
    # Train: 3 of 4 within 20 ms, |diff| mean 11.75 ms; val: 1 of 2, 25 ms.
    train_ann = _write_ann(tmp_path / 'train.json',
                           [0.001, -0.004, 0.03, 0.012])
    val_ann = _write_ann(tmp_path / 'val.json', [0.0, -0.05])
    loader = dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='pseudo_collate'))
    return Config(
        dict(
            default_scope='mmdet',
            custom_imports=dict(imports=[
                'projects.fred_fusion.fred_fusion.datasets',
                'projects.fred_fusion.fred_fusion.engine'
            ]),
            model=dict(type='FusionStatsToyModel'),
            work_dir=str(work_dir),
            experiment_name=uuid.uuid4().hex,
            train_dataloader=dict(
                loader,
                dataset=dict(
                    type='MultiImageMixDataset',
                    dataset=_fred(train_ann),
                    pipeline=[])),
            val_dataloader=dict(
                loader, dataset=_fred(val_ann, test_mode=True)),
            val_evaluator=dict(type='FusionStatsToyMetric'),
            train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
            val_cfg=dict(),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=1)),
            custom_hooks=[dict(type='FusionStatsHook')],
            visualizer=dict(
                type='Visualizer',
                vis_backends=[dict(type='LocalVisBackend')]),
        ))


def _rows(path: Path) -> List[dict]:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_fusion_stats_logged_and_resumed(tmp_path):
    work_dir = tmp_path / 'work'
    runner = Runner.from_cfg(_cfg(tmp_path, work_dir, max_epochs=2))
    stats = find_fusion_stats(runner.train_dataloader.dataset)
    assert stats['paired'] == 3 and stats['total'] == 4
    runner.train()

    log = next(work_dir.glob('*/*.log')).read_text()
    assert ('Fusion (train): Dual Rate: 3/4 (75.0%), Avg Time Diff: '
            '11.75ms') in log
    assert ('Fusion (val): Dual Rate: 1/2 (50.0%), Avg Time Diff: '
            '25.00ms') in log

    scalars = [
        json.loads(line)
        for line in next(work_dir.glob('*/vis_data/scalars.json')).open()
    ]
    train = [s for s in scalars if 'fusion/dual_rate' in s]
    val = [s for s in scalars if 'fusion/val_dual_rate' in s]
    assert [s['step'] for s in train] == [1, 2]
    assert train[0]['fusion/dual_rate'] == pytest.approx(0.75)
    assert train[0]['fusion/avg_time_diff_ms'] == pytest.approx(11.75)
    assert val[0]['fusion/val_avg_time_diff_ms'] == pytest.approx(25.)

    expected = [('1', 'train'), ('1', 'val'), ('2', 'train'), ('2', 'val')]
    rows = _rows(work_dir / 'fusion_stats.csv')
    assert [(r['epoch'], r['split']) for r in rows] == expected
    assert rows[0] == dict(
        epoch='1',
        split='train',
        paired='3',
        total='4',
        dual_rate='0.75',
        avg_time_diff_ms='11.75')
    assert rows[1]['paired'] == '1' and rows[1]['total'] == '2'

    # Resuming from epoch 1 rewrites the rows of epoch 2 once.
    cfg = _cfg(tmp_path, work_dir, max_epochs=2)
    cfg.resume = True
    cfg.load_from = str(work_dir / 'epoch_1.pth')
    Runner.from_cfg(cfg).train()
    rows = _rows(work_dir / 'fusion_stats.csv')
    assert [(r['epoch'], r['split']) for r in rows] == expected


def test_find_fusion_stats_sums_concatenated_sets(tmp_path):
    from mmengine.dataset import ConcatDataset
    from mmengine.registry import DATASETS
    a = DATASETS.build(
        _fred(_write_ann(tmp_path / 'a.json', [0.001, 0.03]), _scope_='mmdet'))
    b = DATASETS.build(
        _fred(_write_ann(tmp_path / 'b.json', [0.002]), _scope_='mmdet'))
    stats = find_fusion_stats(ConcatDataset([a, b]))
    assert stats['paired'] == 2 and stats['total'] == 3
    assert stats['avg_time_diff_ms'] == pytest.approx(11.)
    assert find_fusion_stats(object()) is None
