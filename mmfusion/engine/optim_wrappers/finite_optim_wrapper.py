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

from ..host_sync import AsyncHostCopy
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


def _detach(value):
    """``value`` (a tensor, or a list / dict of them) without autograd."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, dict):
        return {k: _detach(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_detach(v) for v in value]
    return value


def _loss_terms(losses: Optional[dict], loss: torch.Tensor) -> str:
    """The non-finite loss terms of ``losses`` (or ``loss`` itself), e.g.
    ``loss_bbox=nan``; ``on another rank`` where all are finite."""
    terms = [
        f'{name}={_describe(value)}' for name, value in (losses or {}).items()
        if 'loss' in name and not _is_finite(value)
    ]
    if not terms and not _is_finite(loss):
        terms = [f'loss={_describe(loss)}']
    return ', '.join(terms) or 'on another rank'


class _PendingCheck:
    """The loss check of an iteration, read on the host one iteration
    later (see ``deferred`` of :class:`FiniteCheckMixin`).

    Args:
        where (str): The iteration, as :func:`_where` writes it.
        losses (dict, optional): The iteration's detached loss dict.
        loss (torch.Tensor): Its detached summed loss.
        bad (torch.Tensor): Whether the loss is non-finite (on any rank).
    """

    def __init__(self, where: str, losses: Optional[dict], loss: torch.Tensor,
                 bad: torch.Tensor) -> None:
        self.where, self.losses, self.loss = where, losses, loss
        self.flag = AsyncHostCopy([bad])

    def failed(self) -> bool:
        """Whether the loss was non-finite (waits for the copy if needed)."""
        return bool(self.flag.get()[0])


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

    With ``deferred=True`` the check makes the host wait for nothing: the
    flag "the loss is non-finite" stays on the device, where it stops the
    bad iteration's update by itself, and is read on the host one
    iteration later (copied meanwhile by
    :class:`~mmfusion.engine.host_sync.AsyncHostCopy`). The weights and
    the optimizer state are never touched by the bad iteration:

    - under a loss scaler (:class:`FiniteAmpOptimWrapper`) the loss is
      multiplied by NaN before it is scaled, so the backward pass gives
      non-finite gradients and the scaler skips the optimizer step (as
      for any overflow, it then halves the loss scale);
    - without a scaler the optimizer must be a fused torch optimizer
      (e.g. ``SGD(fused=True)``), which is handed the flag as the
      ``found_inf`` of a loss scaler and skips its whole update on the
      device, momentum and weight decay included.

    The error (``action='raise'``) or the skip (``action='skip'``) is then
    reported at the next :meth:`update_params`, or at the next
    :meth:`state_dict` (so no checkpoint is written after a bad iteration
    before it is reported), or by :meth:`flush`, with the bad iteration's
    number and loss terms: e.g. ``non-finite loss at iteration 37
    (epoch 2): loss_bbox=nan`` raised in iteration 38. The
    ``train/skipped_iters`` scalar counts a skip from the next iteration
    on; mmengine copies the message hub into a checkpoint before it asks
    for :meth:`state_dict`, so a skip of the iteration just before a
    checkpoint is missing from that checkpoint's ``skipped_iters``. Call
    :meth:`flush` once training has ended to report the last iteration.
    A ``clip_grad`` still reads the gradient norm on the host (mmengine
    logs it). The SGD momentum buffers of a fused optimizer are created as
    zeros before their first step (a skipped first step of torch's fused
    SGD would leave them uninitialised; with ``dampening=0`` a zero buffer
    gives the same first update).

    Args:
        action (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        check_grads (bool): Also check gradients. Defaults to False.
        deferred (bool): Check the loss without a host synchronisation and
            report a non-finite loss one iteration later (see above). Needs
            a loss scaler or a fused optimizer, ``accumulative_counts=1``
            (a bad micro-batch could not be left out of the accumulated
            gradients without reading the flag) and ``check_grads=False``
            (the gradient check reads the gradients on the host).
            Defaults to False.
        **kwargs: Arguments of the mmengine optimizer wrapper
            (``optimizer``, ``clip_grad``, ``accumulative_counts``, ...).
    """

    #: Whether gradients can be checked (not under a loss scaler).
    grads_checkable = True

    def __init__(self,
                 *args,
                 action: str = 'raise',
                 check_grads: bool = False,
                 deferred: bool = False,
                 **kwargs) -> None:
        if action not in ('raise', 'skip'):
            raise ValueError(
                f"action must be 'raise' or 'skip', but got {action!r}")
        super().__init__(*args, **kwargs)
        self.action = action
        self.check_grads = check_grads and self.grads_checkable
        self.deferred = deferred
        if deferred:
            self._check_deferrable(check_grads)
        self._losses: Optional[dict] = None
        self._model: Optional[nn.Module] = None
        self._pending: Optional[_PendingCheck] = None

    def _check_deferrable(self, check_grads: bool) -> None:
        """Refuse ``deferred=True`` where a bad step cannot be skipped on
        the device."""
        if check_grads:
            raise ValueError(
                'deferred=True cannot be combined with check_grads=True: '
                'the gradient check reads the gradients on the host before '
                'every step, which is the wait deferred=True avoids')
        if self._accumulative_counts > 1:
            raise ValueError(
                'deferred=True needs accumulative_counts=1 (got '
                f'{self._accumulative_counts}): the NaN gradients of a bad '
                'micro-batch would be summed into the accumulated ones, and '
                'leaving the micro-batch out needs its flag on the host')
        if not hasattr(self, 'loss_scaler') and not getattr(
                self.optimizer, '_step_supports_amp_scaling', False):
            raise ValueError(
                'deferred=True without a loss scaler needs a fused optimizer '
                'that can skip a step on the device (e.g. '
                f'SGD(..., fused=True)), but got '
                f'{type(self.optimizer).__name__} without fused=True')

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

        With ``deferred=True`` the check of the previous iteration is
        reported first, and this iteration's check is left on the device
        (see :class:`FiniteCheckMixin`).

        Args:
            loss (torch.Tensor): The summed loss of the iteration.
            step_kwargs (dict, optional): Arguments of ``optimizer.step``.
            zero_kwargs (dict, optional): Arguments of
                ``optimizer.zero_grad``.
        """
        if self.deferred:
            self._update_deferred(loss, step_kwargs or {}, zero_kwargs or {})
        else:
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

    def state_dict(self) -> dict:
        """The mmengine state dict, once the pending check of the last
        iteration (``deferred=True``) is reported.

        Raises:
            FloatingPointError: With ``action='raise'``, if that iteration
                had a non-finite loss (no checkpoint is written then).
        """
        self.flush()
        return super().state_dict()

    def flush(self) -> None:
        """Report the pending check of the last iteration now (with
        ``deferred=True``; nothing to do otherwise). Call it at the end of
        training.

        Raises:
            FloatingPointError: With ``action='raise'``, if that iteration
                had a non-finite loss.
        """
        pending, self._pending = self._pending, None
        if pending is None or not pending.failed():
            return
        details = _loss_terms(pending.losses, pending.loss)
        if self.action == 'raise':
            raise FloatingPointError(
                f'non-finite loss at {pending.where}: {details}')
        self._record_skip(f'non-finite loss {details}', pending.where)

    # -- deferred check -------------------------------------------------

    def _update_deferred(self, loss: torch.Tensor, step_kwargs: dict,
                         zero_kwargs: dict) -> None:
        """:meth:`update_params` with ``deferred=True``: no host read of
        the flag, the update of a bad iteration is skipped on the
        device."""
        self.flush()
        bad = self._bad_flag(loss)
        self._pending = _PendingCheck(_where(), _detach(self._losses),
                                      loss.detach(), bad)
        scaled = hasattr(self, 'loss_scaler')
        if scaled:
            # A constant factor: NaN gradients make the scaler skip the step.
            nan_if_bad = torch.where(bad, float('nan'), 1.0)
            loss = loss * nan_if_bad.to(loss.dtype)
        self.backward(self.scale_loss(loss))
        if self.should_update():
            # A fused SGD whose first step is skipped on the device (here,
            # or by the loss scaler after an overflow) keeps the
            # uninitialised momentum buffers it allocated: give it zeros.
            self._prime_momentum()
            skip_if_bad = contextlib.nullcontext() if scaled else \
                self._found_inf(bad)
            with skip_if_bad:
                self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)

    @contextlib.contextmanager
    def _found_inf(self, bad: torch.Tensor) -> Iterator[None]:
        """Hand ``bad`` to a fused optimizer as a loss scaler does, so that
        its step is skipped on the device when ``bad`` is True."""
        optimizer = self.optimizer
        optimizer.found_inf = bad.to(torch.float32)
        optimizer.grad_scale = None
        try:
            yield
        finally:
            del optimizer.found_inf
            del optimizer.grad_scale

    def _prime_momentum(self) -> None:
        """Zero SGD momentum buffers for the parameters that are about to
        get their first one from a fused optimizer.

        torch's fused SGD allocates the buffers with ``empty_like`` and
        fills them in the kernel, which a skipped step (``found_inf``)
        never runs; the next step would read garbage. A zero buffer gives
        the first step exactly the update of a new one (``momentum * 0 +
        grad``) where ``dampening`` is 0 (YOLOX's SGD); with another
        dampening it would not, and the optimizer is left as it is.
        """
        if not getattr(self.optimizer, '_step_supports_amp_scaling', False):
            return
        state = self.optimizer.state
        for group in self.optimizer.param_groups:
            if not group.get('momentum', 0) or group.get('dampening', 0):
                continue
            for p in group['params']:
                if p.grad is not None and state.get(
                        p, {}).get('momentum_buffer') is None:
                    state[p]['momentum_buffer'] = torch.zeros_like(
                        p, memory_format=torch.preserve_format)

    # -- checks ---------------------------------------------------------

    @staticmethod
    def _bad_flag(loss: torch.Tensor) -> torch.Tensor:
        """Whether ``loss`` is non-finite on any rank, on the device."""
        bad = ~torch.isfinite(loss.detach()).all()
        if is_distributed():
            flag = bad.to(torch.float32).reshape(1)
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
            bad = flag[0] > 0
        return bad

    def _check_loss(self, loss: torch.Tensor) -> None:
        if not bool(self._bad_flag(loss)):
            return
        self._fail('loss', _loss_terms(self._losses, loss))

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

    def _record_skip(self, reason: str, where: Optional[str] = None) -> None:
        count = self._skipped() + 1
        MessageHub.get_current_instance().update_info('skipped_iters', count)
        print_log(
            f'Skipped {where or _where()}: {reason}; {count} iteration(s) '
            'skipped so far.',
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

        # no host synchronisation, NaN reported one iteration later
        optim_wrapper = dict(
            type='FiniteOptimWrapper',
            deferred=True,
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9, fused=True))

    ``tools/train.py --amp`` turns it into :class:`FiniteAmpOptimWrapper`.
    """


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(FiniteCheckMixin, AmpOptimWrapper):
    """:class:`~mmengine.optim.AmpOptimWrapper` (mixed precision, loss
    scaling) with the non-finite loss check of :class:`FiniteCheckMixin`.

    The loss is checked before it is scaled; gradients are not checked (the
    loss scaler skips steps with non-finite gradients and lowers the
    scale). Needs a GPU, as ``AmpOptimWrapper``. With ``deferred=True``
    any optimizer will do: a bad iteration's loss is turned into NaN, and
    the loss scaler skips its step (halving the scale).
    """

    grads_checkable = False
