"""LossPlotHook with the real Runner on the toy classifier: the three PNGs
are valid images, the plotted numbers are the epoch means, and resume
continues the curves."""
import json
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from mmengine.runner import Runner

from mmfusion.engine import LossPlotHook

REPO = Path(__file__).resolve().parents[4]
CONFIG = REPO / 'tests' / 'test_mmfusion' / 'toy_classifier_config.py'


@METRICS.register_module()
class ToyErrorLoss(BaseMetric):
    """Reports the error rate of the toy classifier as ``loss``."""

    def process(self, data_batch, data_samples) -> None:
        """Collect errors."""
        self.results.extend(s['pred'] != s['gt'] for s in data_samples)

    def compute_metrics(self, results: list) -> dict:
        """Return ``dict(loss=...)``."""
        return dict(loss=float(np.mean(results)))


def _runner(work_dir: Path, max_epochs: int, **kwargs) -> Runner:
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = uuid.uuid4().hex
    cfg.train_cfg.max_epochs = max_epochs
    cfg.val_evaluator = [dict(type='ToyAccuracy'), dict(type='ToyErrorLoss')]
    cfg.custom_hooks = [dict(type='LossPlotHook')]
    cfg.merge_from_dict(kwargs)
    return Runner.from_cfg(cfg)


def _image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path))
    assert img is not None, path
    assert img.shape[0] > 100 and img.shape[1] > 100
    return img


def test_plots_and_resume(tmp_path):
    runner = _runner(tmp_path, max_epochs=3)
    runner.train()
    for name in ('epoch_loss.png', 'val_loss.png', 'lr.png'):
        _image(tmp_path / name)
    # no write left behind (partial files are hidden: .<name>.partial)
    assert not list(tmp_path.glob('*.tmp')) + list(tmp_path.glob('.*.partial'))
    with open(tmp_path / 'loss_curves.json') as f:
        curves = json.load(f)
    assert list(curves) == ['1', '2', '3']
    for record in curves.values():
        assert {
            'loss', 'loss_cls', 'loss_l2', 'lr', 'val/loss', 'val/accuracy'
        } <= set(record)
        assert record['val/loss'] == pytest.approx(1 - record['val/accuracy'])
    hook = next(h for h in runner.hooks if isinstance(h, LossPlotHook))
    assert hook._val_key() == 'val/loss'

    # Resume from epoch 2: epoch 3 is redone once, the validation of epoch
    # 2 (run after its checkpoint) is kept from the work dir.
    first = curves
    _runner(
        tmp_path,
        max_epochs=3,
        resume=True,
        load_from=str(tmp_path / 'epoch_2.pth')).train()
    with open(tmp_path / 'loss_curves.json') as f:
        curves = json.load(f)
    assert list(curves) == ['1', '2', '3']
    assert curves['1'] == first['1'] and curves['2'] == first['2']
    assert set(curves['3']) == set(first['3'])
    _image(tmp_path / 'val_loss.png')


def test_val_metric_without_loss():
    """Without a validation loss the named or first metric is plotted."""
    hook = LossPlotHook()
    hook.records = {
        1: {
            'loss': 1.0,
            'val/coco/bbox_mAP': 0.2,
            'val/coco/bbox_mAP_50': 0.4
        }
    }
    assert hook._val_key() == 'val/coco/bbox_mAP'
    hook = LossPlotHook(val_metric='coco/bbox_mAP_50')
    hook.records = {1: {'val/coco/bbox_mAP': 0.2, 'val/coco/bbox_mAP_50': 0.4}}
    assert hook._val_key() == 'val/coco/bbox_mAP_50'
