"""mmengine's RuntimeInfoHook without a host synchronisation per
iteration."""
from typing import List, Optional, Tuple

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook
from mmengine.registry import HOOKS

from ..host_sync import AsyncHostCopy

DATA_BATCH = Optional[object]


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """:class:`~mmengine.hooks.RuntimeInfoHook` that puts the training
    outputs (``loss``, ``loss_cls``, ...) into the message hub one
    iteration late, so that the host never waits for the GPU to read them.

    mmengine's hook calls ``value.item()`` on every output after every
    iteration: on a GPU the host then waits for the whole iteration
    (backward and optimizer step included) before it can queue the next
    one, and the GPU idles while the host prepares it. This hook queues a
    copy of the values to the host (:class:`~mmfusion.engine.AsyncHostCopy`)
    and hands them to the message hub at the next iteration, when they are
    there. Everything else is mmengine's hook (learning rates, iteration
    and epoch counters, validation and test metrics).

    The iterations after which a ``LoggerHook`` writes a log line (every
    ``interval`` iterations, 50 by default, and the last of each epoch)
    are read at once, as mmengine does, so that every log line is exact;
    the others reach the hub at the next iteration. So a checkpoint saved
    after an iteration that is not logged (``by_epoch=False``) holds the
    hub up to the iteration before it; epoch means, log lines and the hub
    after training are complete. Values that are not tensors go to the hub
    at once. After training the hook also reports the last iteration's
    loss check of an optimizer wrapper that defers it
    (``FiniteOptimWrapper(deferred=True)``).

    Use it in place of mmengine's hook in ``default_hooks``::

        default_hooks = dict(runtime_info=dict(type='DeferredRuntimeInfoHook'))
    """

    def __init__(self) -> None:
        self._pending: Optional[Tuple[List[str], AsyncHostCopy]] = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Hand the previous iteration's outputs to the message hub and
        queue this iteration's.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
            outputs (dict, optional): Outputs of ``train_step``.
        """
        self.flush(runner)
        if not outputs:
            return
        if self._logs_now(runner, batch_idx):
            # the logger reads the hub in this iteration: mmengine's exact
            # update (one wait for the device per log line)
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
            return
        keys, tensors = [], []
        for key, value in outputs.items():
            if isinstance(value, torch.Tensor):
                if value.numel() != 1:
                    raise ValueError(
                        f'train_step output {key!r} has {value.numel()} '
                        'values; the message hub takes scalars')
                keys.append(key)
                tensors.append(value)
            else:
                runner.message_hub.update_scalar(f'train/{key}', value)
        if tensors:
            self._pending = (keys, AsyncHostCopy(tensors))

    @staticmethod
    def _logs_now(runner, batch_idx: int) -> bool:
        """Whether a ``LoggerHook`` writes a training log line after this
        iteration (every ``interval`` iterations of an epoch and at its
        end, as mmengine's hook decides)."""
        for hook in runner.hooks:
            if isinstance(hook, LoggerHook) and (
                    hook.every_n_inner_iters(batch_idx, hook.interval)
                    or hook.end_of_epoch(runner.train_dataloader, batch_idx)):
                return True
        return False

    def flush(self, runner) -> None:
        """Hand the outputs still in flight to the message hub (waiting
        for them if needed).

        Args:
            runner (Runner): The runner.
        """
        pending, self._pending = self._pending, None
        if pending is None:
            return
        keys, values = pending
        for key, value in zip(keys, values.get()):
            runner.message_hub.update_scalar(f'train/{key}', value)

    def after_train_epoch(self, runner) -> None:
        """Complete the epoch's outputs (before the epoch's hooks read
        them: this hook's priority is ``VERY_HIGH``).

        Args:
            runner (Runner): The runner.
        """
        self.flush(runner)

    def before_val(self, runner) -> None:
        """Complete the training outputs, then mmengine's hook.

        Args:
            runner (Runner): The runner.
        """
        self.flush(runner)
        super().before_val(runner)

    def after_train(self, runner) -> None:
        """Complete the training outputs and the optimizer wrapper's
        deferred loss check (``FiniteOptimWrapper(deferred=True)``: a
        non-finite loss in the last iteration is reported here), then
        mmengine's hook.

        Args:
            runner (Runner): The runner.
        """
        self.flush(runner)
        flush = getattr(runner.optim_wrapper, 'flush', None)
        if callable(flush):
            flush()
        super().after_train(runner)
