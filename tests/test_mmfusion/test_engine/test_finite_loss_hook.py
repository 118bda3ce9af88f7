import copy
import json

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusion.engine import FiniteLossHook
from tests.test_mmfusion.toy_modules import toy_config


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
    cfg.default_hooks.finite_loss.check_grads = True
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
    cfg.default_hooks.finite_loss.action = 'skip'
    cfg.default_hooks.finite_loss.check_grads = True
    runner = Runner.from_cfg(cfg)
    recorder = StateRecorder()
    runner.register_hook(recorder)
    runner.train()

    assert any(isinstance(h, FiniteLossHook) for h in runner.hooks)
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
