import copy
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.runner import Runner

from mmfusion.engine import (FiniteAmpOptimWrapper, FiniteOptimWrapper,
                             amp_optim_wrapper)
from mmfusion.engine.optim_wrappers import FiniteCheckMixin
from tests.test_mmfusion.toy_modules import (TOY_CONFIG, free_port,
                                             init_gloo_process_group,
                                             run_cpu_workers, toy_config)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..', '..'))


class StateRecorder(Hook):
    """Record weights and SGD momentum buffers after every iteration."""

    def __init__(self):
        self.states = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        optimizer = runner.optim_wrapper.optimizer
        momentum = [
            optimizer.state[p]['momentum_buffer'].clone()
            for p in runner.model.parameters() if p in optimizer.state
        ]
        self.states.append(
            (copy.deepcopy(runner.model.state_dict()), momentum))


def _equal(state_a, state_b):
    (weights_a, momentum_a), (weights_b, momentum_b) = state_a, state_b
    return (all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
            and len(momentum_a) == len(momentum_b) > 0
            and all(torch.equal(a, b) for a, b in zip(momentum_a, momentum_b)))


def test_nan_loss_stops_training_and_names_iteration_and_term(tmp_path):
    cfg = toy_config(tmp_path / 'raise', max_epochs=3)
    # 0-based iteration 6 is the 3rd iteration of epoch 2.
    cfg.model.nan_iter = 6
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite loss at iteration 7 \(epoch 2\): '
            r'loss_cls=nan$'):
        runner.train()

    # The epoch-1 checkpoint exists and is finite; none was written later.
    ckpts = sorted((tmp_path / 'raise').glob('*.pth'))
    assert [p.name for p in ckpts] == ['epoch_1.pth']
    state = torch.load(ckpts[0], weights_only=False)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values())
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_nan_gradient_stops_training_when_checked(tmp_path):
    cfg = toy_config(tmp_path / 'grads', max_epochs=1)
    cfg.model.nan_grad_iter = 2
    cfg.optim_wrapper.check_grads = True
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite gradient at iteration 3 \(epoch 1\): '
            r'net\.0\.weight$'):
        Runner.from_cfg(cfg).train()


def test_skip_leaves_weights_and_optimizer_untouched(tmp_path):
    work_dir = tmp_path / 'skip'
    cfg = toy_config(work_dir, max_epochs=2)
    cfg.model.nan_iter = 6
    cfg.model.nan_grad_iter = 2
    cfg.optim_wrapper.action = 'skip'
    cfg.optim_wrapper.check_grads = True
    runner = Runner.from_cfg(cfg)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()

    assert type(runner.optim_wrapper) is FiniteOptimWrapper
    states = recorder.states
    assert len(states) == 8
    # Iterations 3 (NaN gradient) and 7 (NaN loss) changed nothing, not
    # even by weight decay or momentum; the others did.
    assert _equal(states[2], states[1])
    assert _equal(states[6], states[5])
    assert not _equal(states[3], states[2])
    assert not _equal(states[5], states[4])
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    # The skipped NaN gradient was not left behind for the next step.
    assert all(
        p.grad is None or torch.isfinite(p.grad).all()
        for p in runner.model.parameters())

    rows = [
        json.loads(line)
        for line in open(next(work_dir.glob('*/vis_data/scalars.json')))
        if '"loss"' in line or 'skipped_iters' in line
    ]
    skipped = {row['step']: row['skipped_iters'] for row in rows}
    assert skipped == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 2}
    log = next(work_dir.glob('*/*.log')).read_text()
    assert ('Skipped iteration 7 (epoch 2): non-finite loss loss_cls=nan; '
            '2 iteration(s) skipped so far.') in log
    ckpt = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    assert ckpt['message_hub']['runtime_info']['skipped_iters'] == 2
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())


def _nan_on_rank1_worker(rank: int, port: int, out_dir: str) -> None:
    """One of two gloo ranks training the toy; only rank 1 gets a NaN."""
    init_gloo_process_group(rank, 2, port)
    cfg = toy_config(f'{out_dir}/work', max_epochs=2)
    cfg.model.update(nan_iter=2, nan_rank=1)
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', device_ids=None)
    cfg.experiment_name = 'ddp'
    cfg.launcher = 'pytorch'
    try:
        Runner.from_cfg(cfg).train()
        error = None
    except FloatingPointError as e:
        error = str(e)
    with open(f'{out_dir}/rank{rank}.txt', 'w') as f:
        f.write(repr(error))
    torch.distributed.destroy_process_group()


def test_ranks_agree_on_a_nan_of_one_rank(tmp_path):
    """Both ranks stop at the iteration where only rank 1's loss is NaN
    (rank 0 would otherwise wait in DDP's gradient all-reduce)."""
    # a rank waiting for the other would hang: run_cpu_workers fails then
    run_cpu_workers(_nan_on_rank1_worker, args=(free_port(), str(tmp_path)))
    errors = [(tmp_path / f'rank{r}.txt').read_text() for r in range(2)]
    assert errors == [
        repr('non-finite loss at iteration 3 (epoch 2): on another rank'),
        repr('non-finite loss at iteration 3 (epoch 2): loss_cls=nan')
    ]


def test_amp_variant_keeps_the_check():
    """``tools/train.py --amp`` (and the training benchmark) train the AMP
    variant of the configured wrapper; the finite check stays."""
    cfg = dict(
        type='FiniteOptimWrapper',
        action='skip',
        check_grads=True,
        optimizer=dict(type='SGD', lr=0.1))
    amp = amp_optim_wrapper(cfg)
    assert amp == dict(cfg, type='FiniteAmpOptimWrapper', loss_scale='dynamic')
    assert cfg['type'] == 'FiniteOptimWrapper'  # the input is not changed
    assert amp_optim_wrapper(amp) == amp
    assert amp_optim_wrapper(dict(optimizer=cfg['optimizer']))['type'] == \
        'AmpOptimWrapper'
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        amp_optim_wrapper(dict(type='ApexOptimWrapper'))
    # the check runs before AmpOptimWrapper's scaled backward and step
    assert FiniteAmpOptimWrapper.update_params is \
        FiniteCheckMixin.update_params
    assert FiniteAmpOptimWrapper.backward is AmpOptimWrapper.backward
    assert FiniteAmpOptimWrapper.step is AmpOptimWrapper.step
    assert OPTIM_WRAPPERS.get('FiniteAmpOptimWrapper') is FiniteAmpOptimWrapper


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='AmpOptimWrapper needs a GPU')
def test_train_tool_with_amp_stops_at_a_nan_loss(tmp_path):
    """``tools/train.py --amp`` on the toy config: the NaN loss of
    iteration 7 stops the run, named as without AMP."""
    proc = subprocess.run([
        sys.executable, 'tools/train.py', TOY_CONFIG, '--amp', '--work-dir',
        str(tmp_path), '--cfg-options', 'model.nan_iter=6',
        'train_cfg.max_epochs=3'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert 'FloatingPointError: non-finite loss at iteration 7 (epoch 2): ' \
        'loss_cls=nan' in proc.stderr, proc.stderr[-2000:]
    assert 'FiniteAmpOptimWrapper' in (tmp_path /
                                       osp.basename(TOY_CONFIG)).read_text()
