"""ParamSyncCheckHook with the real mmengine Runner: identical parameters
under DDP (with a frozen-then-unfrozen backbone), a rank that drifts apart,
and single-process training."""
import logging
import os.path as osp
from typing import Dict, List

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmfusion.engine import unwrap_model  # registers the hooks too
from mmfusion.engine import ParamSyncCheckHook
# registers ToyRegressionDataset and ToyBackboneHeadModel
from tests.test_mmfusion.toy_modules import (free_port,
                                             init_gloo_process_group,
                                             run_cpu_workers,
                                             toy_regression_runner_cfg)

BACKBONE_PARAMS = [
    'backbone.0.weight', 'backbone.0.bias', 'backbone.1.weight',
    'backbone.1.bias', 'backbone.3.weight', 'backbone.3.bias'
]
#: Seconds the distributed tests may take before they count as hung.
JOIN_TIMEOUT = 60


@HOOKS.register_module()
class SyncPerturbHook(Hook):
    """Shift ``head.bias`` on one rank at the end of one epoch, before
    ``ParamSyncCheckHook`` (priority ``'LOW'``) checks."""

    priority = 'NORMAL'

    def __init__(self, rank: int, epoch: int) -> None:
        self.rank = rank
        self.epoch = epoch

    def after_train_epoch(self, runner) -> None:
        if runner.rank == self.rank and runner.epoch == self.epoch:
            model = unwrap_model(runner.model)
            with torch.no_grad():
                model.head.bias.add_(1e-3)


class SyncStateRecorderHook(Hook):
    """Copy the backbone parameters at the end of every epoch."""

    def __init__(self) -> None:
        self.states: List[Dict[str, torch.Tensor]] = []

    def after_train_epoch(self, runner) -> None:
        self.states.append(_float64_state(runner.model.backbone))


def _float64_state(module: nn.Module) -> Dict[str, torch.Tensor]:
    return {
        name: param.detach().to(torch.float64, copy=True)
        for name, param in module.named_parameters()
    }


def _max_change(old: dict, new: dict) -> float:
    return max(float((new[k] - old[k]).abs().max()) for k in old)


class _ListHandler(logging.Handler):
    """Collects the messages of a logger, whatever the rank."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _cfg(work_dir: str, max_epochs: int, hooks: list) -> dict:
    return toy_regression_runner_cfg(
        work_dir,
        max_epochs,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1), checkpoint=None),
        custom_hooks=hooks)


def _freeze_hook() -> dict:
    return dict(
        type='FreezeScheduleHook', modules=['backbone'], freeze_epochs=1)


def _sync_hook(runner) -> ParamSyncCheckHook:
    return next(h for h in runner.hooks if isinstance(h, ParamSyncCheckHook))


# -- DDP -----------------------------------------------------------------


def _ddp_worker(rank: int, world_size: int, port: int, out_dir: str,
                perturb: bool) -> None:
    init_gloo_process_group(rank, world_size, port)
    if perturb:
        hooks = [
            dict(type='SyncPerturbHook', rank=1, epoch=0),
            dict(type='ParamSyncCheckHook')
        ]
    else:
        hooks = [_freeze_hook(), dict(type='ParamSyncCheckHook')]
    cfg = _cfg(osp.join(out_dir, 'work'), max_epochs=2, hooks=hooks)
    cfg['model_wrapper_cfg'] = dict(
        type='MMDistributedDataParallel', device_ids=None)
    cfg['experiment_name'] = 'ddp'
    runner = Runner.from_cfg(Config(dict(cfg, launcher='pytorch')))
    handler = _ListHandler()
    runner.logger.addHandler(handler)
    error = None
    try:
        runner.train()
    except RuntimeError as exc:
        error = str(exc)
    finally:
        runner.logger.removeHandler(handler)
    scalars = runner.message_hub.get_scalar(
        'train/param_sync/backbone_max_change').data[0]
    torch.save(
        dict(
            error=error,
            history=_sync_hook(runner).history,
            scalars=[float(v) for v in scalars],
            lines=[line for line in handler.lines if 'ParamSync' in line]),
        osp.join(out_dir, f'rank{rank}.pth'))
    torch.distributed.destroy_process_group()


def _run_ddp(out_dir, perturb: bool) -> List[dict]:
    """Two gloo workers on the CPU; fail instead of waiting for a hung
    one."""
    run_cpu_workers(
        _ddp_worker,
        args=(2, free_port(), str(out_dir), perturb),
        timeout=JOIN_TIMEOUT)
    return [
        torch.load(out_dir / f'rank{r}.pth', weights_only=False)
        for r in range(2)
    ]


def test_ddp_frozen_then_unfrozen_backbone_in_sync(tmp_path):
    """Epoch 1 with a frozen backbone, epoch 2 trained: the ranks stay
    identical, the frozen epoch changes the backbone by exactly 0."""
    ranks = _run_ddp(tmp_path, perturb=False)
    for result in ranks:
        assert result['error'] is None
        history = result['history']
        assert sorted(history) == [1, 2]
        assert history[1]['backbone'] == 0.0
        assert history[2]['backbone'] > 0
        assert history[1]['head'] > 0 and history[2]['head'] > 0
        # The message hub holds the same values, one per check.
        assert result['scalars'] == [0.0, history[2]['backbone']]
    # Identical parameters change identically on both ranks.
    assert ranks[0]['history'] == ranks[1]['history']

    lines = ranks[0]['lines']
    # Children without parameters (the data preprocessor) are left out.
    assert len(lines) == 4
    assert (
        'ParamSyncCheckHook epoch 1: backbone: 6 params (0 trainable) '
        'identical on 2 ranks, max |change| since epoch 0: 0.0e+00') in lines
    assert any(
        line.startswith('ParamSyncCheckHook epoch 2: backbone: 6 params '
                        '(6 trainable) identical on 2 ranks, max |change| '
                        'since epoch 1: ') for line in lines)
    assert any(
        line.startswith('ParamSyncCheckHook epoch 2: head: 2 params '
                        '(2 trainable) identical on 2 ranks')
        for line in lines)


def test_ddp_diverged_rank_raises_on_every_rank(tmp_path):
    """Rank 1 shifts ``head.bias`` after epoch 1: both ranks stop with the
    same error, which names the rank, the epoch and the parameter."""
    ranks = _run_ddp(tmp_path, perturb=True)
    errors = [result['error'] for result in ranks]
    assert errors[0] is not None and errors[0] == errors[1]
    assert errors[0].startswith('ParamSyncCheckHook epoch 1: parameters '
                                'differ between ranks: rank 1 vs rank 0: '
                                'head.bias (max fingerprint difference ')
    assert 'head.weight' not in errors[0]
    assert not any(name in errors[0] for name in BACKBONE_PARAMS)
    for result in ranks:
        # Stopped at the first check; the report was logged before.
        assert sorted(result['history']) == [1]
        lines = result['lines']
        assert any(
            'head: 2 params (2 trainable) 1 DIFFERING between 2 ranks' in line
            for line in lines)
        assert any(
            'backbone: 6 params (6 trainable) identical on 2 ranks' in line
            for line in lines)


# -- single process ------------------------------------------------------


def test_single_process_reports_changes(tmp_path):
    """Not distributed: no comparison, changes every ``interval`` epochs
    and after the last epoch, written to the training log."""
    cfg = _cfg(
        str(tmp_path),
        max_epochs=3,
        hooks=[
            _freeze_hook(),
            dict(type='ParamSyncCheckHook', interval=2, modules=['backbone'])
        ])
    runner = Runner.from_cfg(Config(cfg))
    backbone = runner.model.backbone
    states = [_float64_state(backbone)]
    recorder = SyncStateRecorderHook()
    runner.register_hook(recorder, priority='LOWEST')
    runner.train()
    states += recorder.states
    history = _sync_hook(runner).history
    # Epoch 2 by the interval, epoch 3 after training; each since the
    # previous check (the first: since the start).
    assert history == {
        2: dict(backbone=_max_change(states[0], states[2])),
        3: dict(backbone=_max_change(states[2], states[3]))
    }
    assert history[2]['backbone'] > 0 and history[3]['backbone'] > 0

    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert ('ParamSyncCheckHook epoch 2: backbone: 6 params (6 trainable) '
            'single process, max |change| since epoch 0: ') in log
    assert ('ParamSyncCheckHook epoch 3: backbone: 6 params (6 trainable) '
            'single process, max |change| since epoch 2: ') in log
    assert 'head:' not in log
    # LoggerHook writes the scalar with the iterations after the check.
    assert 'param_sync/backbone_max_change: ' in log


def test_unknown_module_names(tmp_path):
    cfg = _cfg(
        str(tmp_path),
        max_epochs=1,
        hooks=[dict(type='ParamSyncCheckHook', modules=['neck'])])
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(KeyError, match=r"\['neck'\].*'backbone', 'head'\]"):
        runner.train()
