"""EpochCSVLoggerHook with the real Runner on the toy classifier: one row
per epoch with the epoch's mean losses, lr and validation metrics; resume
continues the file without repeating rows."""
import csv
import json
import uuid
from pathlib import Path
from typing import List

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

REPO = Path(__file__).resolve().parents[4]
CONFIG = REPO / 'tests' / 'test_mmfusion' / 'toy_classifier_config.py'


def _runner(work_dir: Path, max_epochs: int, **kwargs) -> Runner:
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = uuid.uuid4().hex
    cfg.train_cfg.max_epochs = max_epochs
    # Validation only every second epoch: rows without metrics stay empty.
    cfg.train_cfg.val_interval = 2
    cfg.custom_hooks = [dict(type='EpochCSVLoggerHook', filename='log.csv')]
    # An explicit ``end``: resumed runs train longer than the first one.
    cfg.param_scheduler = [
        dict(type='MultiStepLR', milestones=[3], gamma=0.1, end=10)
    ]
    cfg.merge_from_dict(kwargs)
    return Runner.from_cfg(cfg)


def _read(path: Path) -> List[dict]:
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def _iter_losses(work_dir: Path) -> List[float]:
    """Per-iteration ``loss`` the logger wrote (window size 1)."""
    rows = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return [row['loss'] for row in rows if 'loss' in row]


def test_csv_rows_and_resume(tmp_path):
    runner = _runner(tmp_path, max_epochs=3)
    runner.train()
    path = tmp_path / 'log.csv'
    rows = _read(path)
    header = list(rows[0])
    assert header[:3] == ['epoch', 'loss', 'lr']
    assert {'loss_cls', 'loss_l2', 'val/accuracy'} <= set(header)
    assert [int(r['epoch']) for r in rows] == [1, 2, 3]

    # ``loss`` is the mean of the epoch's 4 iterations.
    losses = _iter_losses(tmp_path)
    assert len(losses) == 12
    for i, row in enumerate(rows):
        assert float(row['loss']) == pytest.approx(
            sum(losses[4 * i:4 * i + 4]) / 4, rel=1e-6)
        assert float(row['lr']) == pytest.approx(0.1)
    # Validation after epochs 2 and 3 (the last) only.
    assert rows[0]['val/accuracy'] == ''
    assert 0. <= float(rows[1]['val/accuracy']) <= 1.
    assert rows[2]['val/accuracy'] != ''

    # Resume from epoch 2 in the same work dir: the file already holds a
    # row for epoch 3, which the resumed run writes again, once.
    before = {r['epoch']: r for r in rows}
    resumed = _runner(
        tmp_path,
        max_epochs=4,
        resume=True,
        load_from=str(tmp_path / 'epoch_2.pth'))
    resumed.train()
    rows = _read(path)
    assert [int(r['epoch']) for r in rows] == [1, 2, 3, 4]
    # Rows of epochs before the checkpoint are kept as they were,
    # including the validation after the checkpoint was written.
    assert rows[0] == before['1'] and rows[1] == before['2']
    # The lr drops at epoch 4 (MultiStepLR milestone 3).
    assert float(rows[3]['lr']) == pytest.approx(0.01)
    assert rows[3]['val/accuracy'] != ''


def test_resume_into_new_work_dir_uses_checkpoint(tmp_path):
    """Without a CSV in the work dir the rows come from the checkpoint."""
    _runner(tmp_path / 'a', max_epochs=2).train()
    resumed = _runner(
        tmp_path / 'b',
        max_epochs=3,
        resume=True,
        load_from=str(tmp_path / 'a' / 'epoch_2.pth'))
    resumed.train()
    rows = _read(tmp_path / 'b' / 'log.csv')
    assert [int(r['epoch']) for r in rows] == [1, 2, 3]
    first = _read(tmp_path / 'a' / 'log.csv')
    assert rows[0]['loss'] == first[0]['loss']
