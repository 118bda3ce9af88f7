"""FreezeScheduleHook with the real mmengine Runner: the two-stage schedule,
``--resume`` from either stage, and gradient synchronisation under DDP."""
import os.path as osp
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS
from mmengine.runner import Runner

from mmfusion.engine import unwrap_model  # registers the hooks too
# registers ToyRegressionDataset and ToyBackboneHeadModel
from tests.test_mmfusion.toy_modules import (free_port,
                                             init_gloo_process_group,
                                             run_cpu_workers,
                                             toy_regression_runner_cfg)

MAX_EPOCHS = 4
FREEZE_EPOCHS = 2
LR = 0.1
UNFREEZE_LR = 0.05


@HOOKS.register_module()
class FreezeRecorderHook(Hook):
    """Record batch size, lr, backbone state and scheduler per epoch."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.epochs: Dict[int, dict] = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = unwrap_model(runner.model)
        rec = self.epochs.setdefault(
            runner.epoch,
            dict(
                batch_sizes=[],
                lrs=[],
                start=_backbone_state(model),
                frozen_eval=[]))
        rec['batch_sizes'].append(len(data_batch['inputs']))
        rec['lrs'].append(runner.optim_wrapper.get_lr()['lr'][0])
        rec['loader_batch_size'] = runner.train_dataloader.batch_size
        rec['frozen_eval'].append(not model.backbone.training)
        rec['requires_grad'] = [
            p.requires_grad for p in model.backbone.parameters()
        ]

    def after_train_epoch(self, runner):
        model = unwrap_model(runner.model)
        rec = self.epochs[runner.epoch]
        rec['end'] = _backbone_state(model)
        rec['milestones'] = dict(runner.param_schedulers[0].milestones)
        rec['max_iters'] = runner.max_iters


def _backbone_state(model) -> Dict[str, torch.Tensor]:
    """Parameters and BatchNorm buffers of the backbone."""
    return {
        k: v.detach().clone()
        for k, v in model.backbone.state_dict().items()
    }


def _states_equal(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _cfg(work_dir: str, **hook_kwargs) -> dict:
    hook = dict(
        type='FreezeScheduleHook',
        modules=['backbone'],
        freeze_epochs=FREEZE_EPOCHS,
        freeze_batch_size=8,
        unfreeze_batch_size=4,
        unfreeze_lr=UNFREEZE_LR)
    hook.update(hook_kwargs)
    return toy_regression_runner_cfg(
        work_dir,
        MAX_EPOCHS,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=LR, momentum=0.9)),
        param_scheduler=[
            dict(
                type='MultiStepLR',
                milestones=[3],
                gamma=0.1,
                by_epoch=True,
                convert_to_iter_based=True)
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=[hook, dict(type='FreezeRecorderHook')])


def _recorder(runner) -> FreezeRecorderHook:
    return next(h for h in runner.hooks if isinstance(h, FreezeRecorderHook))


def _final_state(runner) -> Dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def full_run(tmp_path_factory):
    """An uninterrupted run: 2 frozen epochs (3 iters of 8), 2 unfrozen
    epochs (6 iters of 4)."""
    work_dir = str(tmp_path_factory.mktemp('freeze_full'))
    runner = Runner.from_cfg(Config(_cfg(work_dir)))
    initial = _backbone_state(runner.model)
    runner.train()
    optim_params = {
        id(p)
        for g in runner.optim_wrapper.param_groups
        for p in g['params']
    }
    return dict(
        work_dir=work_dir,
        initial=initial,
        epochs=_recorder(runner).epochs,
        final=_final_state(runner),
        runner=runner,
        optim_params=optim_params)


def _check_stages(epochs: Dict[int, dict], first_epoch: int = 0) -> None:
    for epoch in range(first_epoch, MAX_EPOCHS):
        rec = epochs[epoch]
        frozen = epoch < FREEZE_EPOCHS
        assert rec['loader_batch_size'] == (8 if frozen else 4)
        assert rec['batch_sizes'] == ([8] * 3 if frozen else [4] * 6)
        assert rec['max_iters'] == 2 * 3 + 2 * 6
        assert all(rec['frozen_eval']) == frozen
        assert not any(rec['frozen_eval']) or frozen
        assert rec['requires_grad'] == [not frozen] * 6
        if frozen:
            # Weights and BatchNorm running statistics bit-identical.
            assert _states_equal(rec['start'], rec['end'])
            assert rec['lrs'] == [pytest.approx(LR)] * 3
        else:
            changed = [
                k for k in rec['start']
                if not torch.equal(rec['start'][k], rec['end'][k])
            ]
            # (A bias right before BatchNorm gets no gradient.)
            assert set(changed) >= {
                '0.weight', '1.weight', '1.bias', '1.running_mean',
                '1.running_var', '3.weight', '3.bias'
            }
        # Milestone of epoch 3 in iterations of the current epoch length.
        assert rec['milestones'] == {(3 if frozen else 6) * 3: 1}
    if first_epoch <= 2:
        assert epochs[2]['lrs'] == [pytest.approx(UNFREEZE_LR)] * 6
    assert epochs[3]['lrs'] == [pytest.approx(UNFREEZE_LR * 0.1)] * 6


def test_two_stage_schedule(full_run):
    epochs = full_run['epochs']
    # The frozen parameters are in the optimizer from the start.
    model = full_run['runner'].model
    assert {id(p)
            for p in model.backbone.parameters()} <= full_run['optim_params']
    assert _states_equal(full_run['initial'], epochs[0]['start'])
    _check_stages(epochs)
    assert not torch.equal(full_run['initial']['0.weight'],
                           full_run['final']['backbone.0.weight'])


@pytest.mark.parametrize('ckpt_epoch', [1, 2, 3])
def test_resume_replays_stage(full_run, tmp_path, ckpt_epoch):
    """Resuming from a stage-1 (1), last-frozen (2) or stage-2 (3)
    checkpoint re-applies the stage of the resumed epoch and ends exactly
    as the uninterrupted run."""
    ckpt = osp.join(full_run['work_dir'], f'epoch_{ckpt_epoch}.pth')
    cfg = _cfg(str(tmp_path))
    runner = Runner.from_cfg(Config(dict(cfg, resume=True, load_from=ckpt)))
    runner.train()
    epochs = _recorder(runner).epochs
    assert sorted(epochs) == list(range(ckpt_epoch, MAX_EPOCHS))
    _check_stages(epochs, first_epoch=ckpt_epoch)
    for epoch in epochs:
        assert _states_equal(epochs[epoch]['start'],
                             full_run['epochs'][epoch]['start'])
    final = _final_state(runner)
    for key, value in full_run['final'].items():
        assert torch.equal(final[key], value), key


def test_unknown_module_names(tmp_path):
    runner = Runner.from_cfg(
        Config(_cfg(str(tmp_path), modules=['backbone', 'neck'])))
    with pytest.raises(KeyError, match=r"\['neck'\].*'backbone', 'head'\]"):
        runner.train()


# -- DDP -----------------------------------------------------------------


@OPTIM_WRAPPERS.register_module()
class GradRecordingOptimWrapper(OptimWrapper):
    """Saves the backbone gradients each step (after DDP's all-reduce)."""

    def step(self, **kwargs) -> None:
        grads = [
            None if p.grad is None else p.grad.clone()
            for p in self.param_groups[0]['params'][:6]
        ]
        self.recorded_grads = getattr(self, 'recorded_grads', [])
        self.recorded_grads.append(grads)
        super().step(**kwargs)


def _ddp_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    init_gloo_process_group(rank, world_size, port)
    cfg = _cfg(osp.join(out_dir, 'work'))
    cfg['optim_wrapper']['type'] = 'GradRecordingOptimWrapper'
    cfg['model_wrapper_cfg'] = dict(
        type='MMDistributedDataParallel', device_ids=None)
    cfg['experiment_name'] = 'ddp'
    runner = Runner.from_cfg(Config(dict(cfg, launcher='pytorch')))
    initial = _backbone_state(runner.model.module)
    runner.train()
    torch.save(
        dict(
            initial=initial,
            grads=runner.optim_wrapper.recorded_grads,
            final=_backbone_state(runner.model.module),
            wrapper=type(runner.model).__name__),
        osp.join(out_dir, f'rank{rank}.pth'))
    torch.distributed.destroy_process_group()


def test_ddp_unfrozen_backbone_gradients_synchronised(tmp_path):
    """Two gloo processes: no backbone gradients while frozen; after the
    switch the backbone gradients are all-reduced (identical on both
    ranks, which see different samples) and the weights train."""
    run_cpu_workers(_ddp_worker, args=(2, free_port(), str(tmp_path)))
    ranks = [
        torch.load(tmp_path / f'rank{r}.pth', weights_only=False)
        for r in range(2)
    ]
    for result in ranks:
        assert result['wrapper'] == 'MMDistributedDataParallel'
        # Each rank: 12 samples -> 2 frozen epochs x 2 iters (batch 8),
        # 2 unfrozen epochs x 3 iters (batch 4).
        grads: List[list] = result['grads']
        assert len(grads) == 2 * 2 + 2 * 3
        assert all(g is None for step in grads[:4] for g in step)
        assert all(g is not None for step in grads[4:] for g in step)
        assert not torch.equal(result['initial']['0.weight'],
                               result['final']['0.weight'])
    for step0, step1 in zip(ranks[0]['grads'][4:], ranks[1]['grads'][4:]):
        for g0, g1 in zip(step0, step1):
            assert torch.allclose(g0, g1, atol=1e-7)
        assert all(step0[i].abs().sum() > 0 for i in (0, 2, 3, 4, 5))
    # Weights stay equal on both ranks (BatchNorm statistics are per rank
    # with ``broadcast_buffers=False``).
    for key, value in ranks[0]['final'].items():
        if 'running' not in key and 'num_batches' not in key:
            assert torch.equal(value, ranks[1]['final'][key]), key
