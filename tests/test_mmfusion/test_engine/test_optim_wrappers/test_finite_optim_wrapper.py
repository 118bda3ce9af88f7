import copy
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.runner import Runner

from mmfusion.engine import (FiniteAmpOptimWrapper, FiniteOptimWrapper,
                             HostSyncCounter, amp_optim_wrapper)
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


# -- deferred=True: no host sync, NaN reported one iteration later ---------


def _deferred_config(work_dir, max_epochs, **optim_wrapper):
    """The toy config with ``deferred=True`` and fused SGD."""
    cfg = toy_config(work_dir, max_epochs=max_epochs)
    cfg.optim_wrapper.update(deferred=True, **optim_wrapper)
    cfg.optim_wrapper.optimizer.fused = True
    return cfg


def test_deferred_nan_loss_raises_at_the_next_iteration(tmp_path):
    cfg = _deferred_config(tmp_path / 'deferred_raise', max_epochs=3)
    cfg.model.nan_iter = 6
    runner = Runner.from_cfg(cfg)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite loss at iteration 7 \(epoch 2\): '
            r'loss_cls=nan$'):
        runner.train()

    # raised in iteration 8, before its update; iteration 7 changed
    # neither the weights nor the momentum buffers
    assert runner.iter == 7
    states = recorder.states
    assert len(states) == 7
    assert _equal(states[6], states[5])
    assert not _equal(states[5], states[4])
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    assert all(torch.isfinite(m).all() for m in states[6][1])
    ckpts = sorted((tmp_path / 'deferred_raise').glob('*.pth'))
    assert [p.name for p in ckpts] == ['epoch_1.pth']


def test_deferred_skip_is_counted_one_iteration_later(tmp_path):
    work_dir = tmp_path / 'deferred_skip'
    cfg = _deferred_config(work_dir, max_epochs=2, action='skip')
    cfg.model.nan_iter = 6
    runner = Runner.from_cfg(cfg)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()

    states = recorder.states
    assert len(states) == 8
    assert _equal(states[6], states[5])
    assert all(not _equal(states[i], states[i - 1]) for i in (1, 5, 7))
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    assert all(torch.isfinite(m).all() for m in states[7][1])

    rows = [
        json.loads(line)
        for line in open(next(work_dir.glob('*/vis_data/scalars.json')))
        if '"loss"' in line or 'skipped_iters' in line
    ]
    skipped = {row['step']: row['skipped_iters'] for row in rows}
    assert skipped == {**{step: 0 for step in range(1, 8)}, 8: 1}
    log = next(work_dir.glob('*/*.log')).read_text()
    assert ('Skipped iteration 7 (epoch 2): non-finite loss loss_cls=nan; '
            '1 iteration(s) skipped so far.') in log
    ckpt = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    assert ckpt['message_hub']['runtime_info']['skipped_iters'] == 1


def test_deferred_check_is_reported_before_a_checkpoint(tmp_path):
    """The NaN of the last iteration of epoch 1 is reported when the
    epoch's checkpoint asks for the optimizer state, before it is
    written."""
    cfg = _deferred_config(tmp_path / 'deferred_ckpt', max_epochs=2)
    cfg.model.nan_iter = 3
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite loss at iteration 4 \(epoch 1\): '
            r'loss_cls=nan$'):
        Runner.from_cfg(cfg).train()
    assert list((tmp_path / 'deferred_ckpt').glob('*.pth')) == []


def test_deferred_matches_the_immediate_check_on_finite_losses(tmp_path):
    states = []
    for deferred in (False, True):
        cfg = toy_config(tmp_path / f'deferred_{deferred}', max_epochs=2)
        cfg.optim_wrapper.update(deferred=deferred, action='skip')
        cfg.optim_wrapper.optimizer.fused = True
        runner = Runner.from_cfg(cfg)
        recorder = StateRecorder()
        runner.register_hook(recorder)
        runner.train()
        assert runner.optim_wrapper.deferred is deferred
        states.append(recorder.states)
    assert len(states[0]) == len(states[1]) == 8
    assert all(_equal(a, b) for a, b in zip(*states))


def _fused_wrapper(hub_name, action='raise', deferred=True, **kwargs):
    """A linear layer and a deferred wrapper of fused SGD with momentum,
    under a fresh message hub at (0-based) iteration 4."""
    MessageHub.get_instance(hub_name).update_info('iter', 4)
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        fused=True)
    wrapper = FiniteOptimWrapper(
        optimizer=optimizer, action=action, deferred=deferred, **kwargs)
    return model, wrapper


def _toy_loss(model, factor=1.0):
    return model(torch.ones(3, 4)).square().mean() * factor


def _state(model, optimizer):
    return (copy.deepcopy(model.state_dict()), [
        optimizer.state[p]['momentum_buffer'].clone()
        for p in model.parameters() if p in optimizer.state
    ])


def test_deferred_state_dict_reports_the_pending_check(tmp_path):
    model, wrapper = _fused_wrapper(tmp_path.name)
    wrapper.update_params(_toy_loss(model))
    before = _state(model, wrapper.optimizer)
    wrapper.update_params(_toy_loss(model, float('nan')))
    # skipped on the device by the fused optimizer
    assert _equal(_state(model, wrapper.optimizer), before)
    assert not hasattr(wrapper.optimizer, 'found_inf')
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite loss at iteration 5: '
            r'loss=nan$'):
        wrapper.state_dict()
    # reported once
    assert 'state' in wrapper.state_dict()
    wrapper.flush()


def test_deferred_nan_first_step_leaves_zero_momentum(tmp_path):
    """A skipped first step of torch's fused SGD would leave uninitialised
    momentum buffers; they are created as zeros before it, and the next
    step is exactly a first step."""
    model, wrapper = _fused_wrapper(tmp_path.name, action='skip')
    weights = copy.deepcopy(model.state_dict())
    wrapper.update_params(_toy_loss(model, float('inf')))
    assert all(
        torch.equal(weights[k], v) for k, v in model.state_dict().items())
    buffers = [s['momentum_buffer'] for s in wrapper.optimizer.state.values()]
    assert buffers and all(not b.any() for b in buffers)
    wrapper.update_params(_toy_loss(model))
    assert MessageHub.get_current_instance().get_info('skipped_iters') == 1

    reference, ref_wrapper = _fused_wrapper(tmp_path.name + '_ref')
    ref_wrapper.update_params(_toy_loss(reference))
    assert _equal(
        _state(model, wrapper.optimizer),
        _state(reference, ref_wrapper.optimizer))


def test_deferred_update_makes_no_host_sync(tmp_path):
    model, wrapper = _fused_wrapper(tmp_path.name)
    with HostSyncCounter() as syncs:
        for _ in range(4):
            wrapper.update_params(_toy_loss(model))
        wrapper.flush()
    assert syncs.total == 0, syncs.summary()

    model, immediate = _fused_wrapper(tmp_path.name + '_now', deferred=False)
    with HostSyncCounter() as syncs:
        for _ in range(3):
            immediate.update_params(_toy_loss(model))
    assert syncs.total == 3, syncs.summary()


def test_deferred_needs_a_device_side_skip(tmp_path):
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r'fused optimizer .* SGD without'):
        FiniteOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            deferred=True)
    with pytest.raises(ValueError, match='accumulative_counts=1 \\(got 2\\)'):
        _fused_wrapper(tmp_path.name, accumulative_counts=2)
    with pytest.raises(ValueError, match='check_grads=True'):
        _fused_wrapper(tmp_path.name, check_grads=True)
    # without momentum, and without deferred, anything goes
    FiniteOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, fused=True),
        deferred=True)
    FiniteOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        accumulative_counts=2,
        check_grads=True)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='AmpOptimWrapper needs a GPU')
@pytest.mark.parametrize('fused', [False, True])
def test_deferred_amp_skips_through_the_loss_scaler(tmp_path, fused):
    """Under a loss scaler a bad iteration's loss becomes NaN: the scaler
    skips the step (fused optimizer or not) and halves its scale."""
    MessageHub.get_instance(tmp_path.name).update_info('iter', 4)
    model = nn.Linear(4, 2).cuda()
    wrapper = FiniteAmpOptimWrapper(
        optimizer=torch.optim.SGD(
            model.parameters(), lr=0.1, momentum=0.9, fused=fused),
        # a small scale: the first, finite step must not overflow
        loss_scale=dict(init_scale=1.0),
        action='skip',
        deferred=True)

    def loss(factor=1.0):
        with wrapper.optim_context(model):
            return model(torch.ones(3, 4, device='cuda')).square().mean() * \
                factor

    wrapper.update_params(loss())
    before = _state(model, wrapper.optimizer)
    scale = wrapper.loss_scaler.get_scale()
    wrapper.update_params(loss(float('inf')))
    assert _equal(_state(model, wrapper.optimizer), before)
    assert wrapper.loss_scaler.get_scale() == scale / 2
    assert wrapper._skipped() == 0
    wrapper.update_params(loss())
    assert wrapper._skipped() == 1
    assert not _equal(_state(model, wrapper.optimizer), before)
    assert all(torch.isfinite(p).all() for p in model.parameters())
