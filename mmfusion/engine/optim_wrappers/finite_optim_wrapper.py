"""Optimizer wrappers that stop (or skip) an iteration with a NaN / inf
loss before it reaches the weights."""
import contextlib
import logging
from typing import Dict, Iterator, List, Optional

import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.dist import is_distributed
from mmengine.logging import MessageHub, print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from ..model_utils import unwrap_model

#: Names listed at most in a message.
MAX_NAMES = 5


def _describe(value) -> str:
    """``nan`` / ``inf`` for a scalar, a count of the non-finite values of
    a larger tensor (or list of tensors)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    flat = torch.cat(
        [torch.as_tensor(v).detach().float().reshape(-1) for v in values])
    if flat.numel() == 1:
        return f'{flat.item():.6g}'
    return (f'{int((~torch.isfinite(flat)).sum())} non-finite of '
            f'{flat.numel()} values')


def _is_finite(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return all(
        bool(torch.isfinite(torch.as_tensor(v).detach()).all())
        for v in values)


class FiniteCheckMixin:
    """The non-finite check of :class:`FiniteOptimWrapper` and
    :class:`FiniteAmpOptimWrapper` (mixed in before the mmengine wrapper
    whose ``backward`` and ``step`` it uses).

    :meth:`update_params` checks the summed loss (one host sync) before
    ``backward``. In distributed runs the ranks agree on the outcome (one
    all-reduce of a flag), so that they stop or skip together instead of
    waiting for each other in DDP's gradient all-reduce. The loss terms
    are named from the model's output, kept by a forward hook that
    :meth:`optim_context` holds around the forward pass.

    A non-finite loss

    - with ``action='raise'`` stops the run with e.g.
      ``FloatingPointError: non-finite loss at iteration 37 (epoch 2):
      loss_bbox=nan``; the weights are untouched, so no checkpoint with
      NaN weights is ever written;
    - with ``action='skip'`` abandons the iteration before the backward
      pass: no optimizer step, no momentum or weight-decay update (the
      schedulers step as usual). The skip is logged as a warning, counted
      in the scalar ``train/skipped_iters`` and kept in the message hub's
      ``skipped_iters``, which checkpoints save, so the count survives
      ``--resume``. The iteration's losses are still logged as they were
      (NaN); :class:`~mmfusion.engine.EpochRecordHook`'s epoch means leave
      them out.

    With ``check_grads=True`` the gradients are checked too before each
    optimizer step; a non-finite gradient is reported with the parameter's
    name, and a skipped step has its gradients zeroed. The AMP variant does
    not check gradients: its loss scaler already skips steps with
    non-finite gradients.

    Iterations and epochs in messages count from 1, as in the training log
    (read from the message hub, where ``RuntimeInfoHook`` keeps them). Only
    loss terms whose name contains ``'loss'`` (the ones summed into the
    total) are named. A skipped iteration does not advance the
    gradient-accumulation counter.

    Args:
        action (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        check_grads (bool): Also check gradients. Defaults to False.
        **kwargs: Arguments of the mmengine optimizer wrapper
            (``optimizer``, ``clip_grad``, ``accumulative_counts``, ...).
    """

    #: Whether gradients can be checked (not under a loss scaler).
    grads_checkable = True

    def __init__(self,
                 *args,
                 action: str = 'raise',
                 check_grads: bool = False,
                 **kwargs) -> None:
        if action not in ('raise', 'skip'):
            raise ValueError(
                f"action must be 'raise' or 'skip', but got {action!r}")
        super().__init__(*args, **kwargs)
        self.action = action
        self.check_grads = check_grads and self.grads_checkable
        self._losses: Optional[dict] = None
        self._model: Optional[nn.Module] = None

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """The mmengine context, plus a forward hook that keeps the loss
        dict the model returns (to name a non-finite term).

        Args:
            model (nn.Module): The training model (or its wrapper).
        """
        self._losses, self._model = None, model
        handle = model.register_forward_hook(self._keep_losses)
        try:
            with super().optim_context(model):
                yield
        finally:
            handle.remove()

    def _keep_losses(self, module: nn.Module, args, output) -> None:
        if isinstance(output, dict):
            self._losses = output

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Check ``loss``, then back-propagate and step as mmengine does.

        Args:
            loss (torch.Tensor): The summed loss of the iteration.
            step_kwargs (dict, optional): Arguments of ``optimizer.step``.
            zero_kwargs (dict, optional): Arguments of
                ``optimizer.zero_grad``.
        """
        try:
            self._check_loss(loss)
            loss = self.scale_loss(loss)
            self.backward(loss)
            if self.should_update():
                if self.check_grads:
                    self._check_grads(zero_kwargs or {})
                self.step(**(step_kwargs or {}))
                self.zero_grad(**(zero_kwargs or {}))
        except _Skip as skip:
            self._record_skip(skip.reason)
        if self.action == 'skip':
            MessageHub.get_current_instance().update_scalar(
                'train/skipped_iters', self._skipped())

    # -- checks ---------------------------------------------------------

    def _check_loss(self, loss: torch.Tensor) -> None:
        bad = ~torch.isfinite(loss.detach()).all()
        if is_distributed():
            flag = bad.to(torch.float32).reshape(1)
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
            bad = flag[0] > 0
        if not bool(bad):
            return
        terms = [
            f'{name}={_describe(value)}'
            for name, value in (self._losses or {}).items()
            if 'loss' in name and not _is_finite(value)
        ]
        if not terms and not _is_finite(loss):
            terms = [f'loss={_describe(loss)}']
        self._fail('loss', ', '.join(terms) or 'on another rank')

    def _check_grads(self, zero_kwargs: dict) -> None:
        bad = [
            p for group in self.optimizer.param_groups for p in group['params']
            if p.grad is not None and not _is_finite(p.grad)
        ]
        if not bad:
            return
        names = {
            id(p): n
            for n, p in unwrap_model(self._model).named_parameters()
        } if self._model is not None else {}
        listed: List[str] = [
            names.get(id(p), 'unnamed parameter') for p in bad[:MAX_NAMES]
        ]
        if len(bad) > MAX_NAMES:
            listed.append(f'and {len(bad) - MAX_NAMES} more')
        if self.action == 'skip':
            self.zero_grad(**zero_kwargs)
        self._fail('gradient', ', '.join(listed))

    def _fail(self, what: str, details: str) -> None:
        if self.action == 'raise':
            raise FloatingPointError(
                f'non-finite {what} at {_where()}: {details}')
        raise _Skip(f'non-finite {what} {details}')

    # -- skips ----------------------------------------------------------

    @staticmethod
    def _skipped() -> int:
        return MessageHub.get_current_instance().get_info('skipped_iters', 0)

    def _record_skip(self, reason: str) -> None:
        count = self._skipped() + 1
        MessageHub.get_current_instance().update_info('skipped_iters', count)
        print_log(
            f'Skipped {_where()}: {reason}; {count} iteration(s) skipped so '
            'far.',
            logger='current',
            level=logging.WARNING)


class _Skip(Exception):
    """Abandons the current iteration inside :meth:`update_params`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _where() -> str:
    """``iteration N (epoch E)``, counted from 1, from the message hub."""
    hub = MessageHub.get_current_instance()
    where = f'iteration {hub.get_info("iter", 0) + 1}'
    if hub.get_info('epoch') is not None:
        where += f' (epoch {hub.get_info("epoch") + 1})'
    return where


@OPTIM_WRAPPERS.register_module()
class FiniteOptimWrapper(FiniteCheckMixin, OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` that stops or skips an
    iteration with a non-finite loss (and, with ``check_grads=True``,
    gradient); see :class:`FiniteCheckMixin`.

    Example::

        optim_wrapper = dict(
            type='FiniteOptimWrapper',
            action='raise',  # or 'skip'
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9))

    ``tools/train.py --amp`` turns it into :class:`FiniteAmpOptimWrapper`.
    """


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(FiniteCheckMixin, AmpOptimWrapper):
    """:class:`~mmengine.optim.AmpOptimWrapper` (mixed precision, loss
    scaling) with the non-finite loss check of :class:`FiniteCheckMixin`.

    The loss is checked before it is scaled; gradients are not checked (the
    loss scaler skips steps with non-finite gradients and lowers the
    scale). Needs a GPU, as ``AmpOptimWrapper``.
    """

    grads_checkable = False
