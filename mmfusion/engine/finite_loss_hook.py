"""Stopping (or skipping) training iterations with a NaN / inf loss."""
import functools
from typing import Callable, Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

DATA_BATCH = Optional[dict]


class _SkipIteration(Exception):
    """Raised inside ``train_step`` to abandon the current iteration."""

    def __init__(self, reason: str, grads_computed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.grads_computed = grads_computed


def _format_value(value) -> str:
    value = value.detach().float() if torch.is_tensor(value) else value
    value = torch.as_tensor(value)
    if value.numel() == 1:
        return f'{value.item():.6g}'
    return (f'{int((~torch.isfinite(value)).sum())} non-finite of '
            f'{value.numel()} values')


def _is_finite(value) -> bool:
    if torch.is_tensor(value):
        return bool(torch.isfinite(value.detach()).all())
    return bool(torch.isfinite(torch.as_tensor(value)).all())


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop, or skip, a training iteration whose loss is NaN or inf.

    Works for every model that builds its loss with ``parse_losses``
    (every :class:`~mmengine.model.BaseModel` whose ``train_step`` is
    mmengine's, and the distributed wrappers): at ``before_train`` the
    hook wraps the model's ``parse_losses`` and checks the summed loss
    before ``optim_wrapper.update_params`` sees it.  A non-finite loss

    - with ``action='raise'`` stops the run with e.g.
      ``FloatingPointError: non-finite loss at iteration 37 (epoch 2):
      loss_bbox=nan``; the weights are untouched, so no checkpoint with
      NaN weights is ever written;
    - with ``action='skip'`` abandons the iteration before the backward
      pass: no optimizer step, no momentum or weight-decay update, no
      scheduler change beyond the usual per-iteration one.  The skip is
      logged as a warning, counted in the scalar ``train/skipped_iters``
      (logged by ``LoggerHook``) and kept in the message hub's
      ``skipped_iters`` so the count survives ``--resume``.

    Iterations and epochs in messages count from 1, as in the training log.
    Only loss terms whose name contains ``'loss'`` (the ones summed into
    the total) are checked.

    With ``check_grads=True`` the gradients are checked too, right before
    each optimizer step (``torch.optim.Optimizer.register_step_pre_hook``);
    a non-finite gradient is reported with the parameter's name, and a
    skipped step has its gradients zeroed.  This check is not installed
    with :class:`~mmengine.optim.AmpOptimWrapper`, whose loss scaler already
    skips steps with non-finite gradients.

    Note:
        A skipped iteration does not advance the optimizer wrapper's
        gradient-accumulation counter.

    Args:
        action (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        check_grads (bool): Also check gradients. Defaults to False.
        priority (str | int): Hook priority. Defaults to ``'VERY_HIGH'``,
            so the skip count is updated before ``LoggerHook`` logs.
    """

    def __init__(self,
                 action: str = 'raise',
                 check_grads: bool = False,
                 priority='VERY_HIGH') -> None:
        if action not in ('raise', 'skip'):
            raise ValueError(
                f"action must be 'raise' or 'skip', but got {action!r}")
        self.action = action
        self.check_grads = check_grads
        self.priority = priority
        self.num_skipped = 0
        self._runner = None
        self._patched: List[tuple] = []
        self._step_hooks: list = []

    # Installation ---------------------------------------------------------
    def before_train(self, runner) -> None:
        """Wrap ``parse_losses`` and ``train_step`` of the model.

        Args:
            runner (Runner): The runner of the training process.
        """
        self._runner = runner
        self.num_skipped = runner.message_hub.get_info('skipped_iters', 0)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._patch(model, 'parse_losses', self._wrap_parse_losses)
        if self.action == 'skip':
            self._patch(runner.model, 'train_step', self._wrap_train_step)
        if self.check_grads:
            self._install_grad_check(runner, model)

    def after_train(self, runner) -> None:
        """Remove the wrappers.

        Args:
            runner (Runner): The runner of the training process.
        """
        for obj, name in reversed(self._patched):
            delattr(obj, name)
        self._patched = []
        for handle in self._step_hooks:
            handle.remove()
        self._step_hooks = []

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Wrap ``train_step`` again if the model wrapper was replaced.

        :class:`FreezeScheduleHook` re-wraps the model in a new DDP wrapper
        when the trainable parameters change; the skip wrapper follows it.

        Args:
            runner (Runner): The runner of the training process.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict, optional): The batch.
        """
        if self.action == 'skip':
            self._patch(runner.model, 'train_step', self._wrap_train_step)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Log the number of skipped iterations.

        Args:
            runner (Runner): The runner of the training process.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict, optional): The batch.
            outputs (dict, optional): Outputs of ``train_step``.
        """
        if self.action == 'skip':
            runner.message_hub.update_scalar('train/skipped_iters',
                                             self.num_skipped)

    def _patch(self, obj, name: str, wrapper: Callable) -> None:
        # Instance attributes shadow the class methods and are removed in
        # ``after_train``; a second ``runner.train()`` wraps again.
        if name in vars(obj):
            return
        setattr(obj, name, wrapper(getattr(obj, name)))
        self._patched.append((obj, name))

    def _install_grad_check(self, runner, model) -> None:
        wrappers = (
            runner.optim_wrapper.optim_wrappers.values() if isinstance(
                runner.optim_wrapper, OptimWrapperDict) else
            [runner.optim_wrapper])
        names = {id(p): n for n, p in model.named_parameters()}
        for wrapper in wrappers:
            if isinstance(wrapper, AmpOptimWrapper):
                runner.logger.info(
                    'FiniteLossHook: gradients are not checked for '
                    'AmpOptimWrapper, its loss scaler skips non-finite '
                    'steps.')
                continue
            self._step_hooks.append(
                wrapper.optimizer.register_step_pre_hook(
                    functools.partial(self._check_grads, names=names)))

    # Checks ---------------------------------------------------------------
    def _where(self) -> str:
        runner = self._runner
        where = f'iteration {runner.iter + 1}'
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            where += f' (epoch {runner.epoch + 1})'
        return where

    def _fail(self, what: str, details: str, grads_computed: bool) -> None:
        if self.action == 'raise':
            raise FloatingPointError(
                f'non-finite {what} at {self._where()}: {details}')
        raise _SkipIteration(f'non-finite {what} {details}', grads_computed)

    def _wrap_parse_losses(self, parse_losses: Callable) -> Callable:

        @functools.wraps(parse_losses)
        def wrapped(losses: Dict[str, torch.Tensor]):
            loss, log_vars = parse_losses(losses)
            if self._runner.model.training and not _is_finite(loss):
                bad = [
                    f'{name}={_format_value(value)}'
                    for name, value in log_vars.items() if 'loss' in name
                    and name != 'loss' and not _is_finite(value)
                ] or [f'loss={_format_value(loss)}']
                self._fail('loss', ', '.join(bad), grads_computed=False)
            return loss, log_vars

        return wrapped

    def _check_grads(self, optimizer, args, kwargs, names: dict) -> None:
        bad = [
            names.get(id(p), 'unnamed parameter')
            for group in optimizer.param_groups for p in group['params']
            if p.grad is not None and not _is_finite(p.grad)
        ]
        if bad:
            shown = ', '.join(bad[:5])
            if len(bad) > 5:
                shown += f' and {len(bad) - 5} more'
            self._fail('gradient', shown, grads_computed=True)

    def _wrap_train_step(self, train_step: Callable) -> Callable:

        @functools.wraps(train_step)
        def wrapped(data, optim_wrapper, *args, **kwargs):
            try:
                return train_step(data, optim_wrapper, *args, **kwargs)
            except _SkipIteration as skip:
                if skip.grads_computed:
                    optim_wrapper.zero_grad()
                self.num_skipped += 1
                self._runner.message_hub.update_info('skipped_iters',
                                                     self.num_skipped)
                self._runner.logger.warning(
                    f'Skipped {self._where()}: {skip.reason}; '
                    f'{self.num_skipped} iteration(s) skipped so far.')
                return {}

        return wrapped
