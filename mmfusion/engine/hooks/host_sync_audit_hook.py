"""Count the host synchronisations of a few training iterations."""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..host_sync import HostSyncCounter
from ..model_utils import unwrap_model

DATA_BATCH = Optional[object]


@HOOKS.register_module()
class HostSyncAuditHook(Hook):
    """Records, with :class:`~mmfusion.engine.HostSyncCounter`, every
    operation that needs a device value on the host during ``iters``
    training iterations from iteration ``begin`` on: the data
    preprocessor, forward, loss, backward, optimizer step and every hook
    of those iterations. The iterations before ``begin`` are left out, as
    they hold one-time work (the optimizer's state, lazy modules).

    The result is logged (one line per operation and line of code) and
    written to ``host_syncs.json`` in the work dir: ``iters``, ``total``,
    ``per_iter`` and ``by_caller`` (counts per "operation at file:line in
    function").

    A training step meant to keep a GPU busy should have none: each one
    stops the host from queueing work ahead of the GPU. Compiled functions
    are not looked into, so audit an eager run (the same code is compiled
    otherwise). On a CPU the records are the reads that would wait for a
    GPU.

    Args:
        begin (int): First audited iteration (0-based, counted in this
            run). Defaults to 2.
        iters (int): Number of audited iterations. Defaults to 2.
        device_type (str, optional): Count reads of tensors on this device
            type only; None: the model's device. Defaults to None.
    """

    priority = 'HIGHEST'

    def __init__(self,
                 begin: int = 2,
                 iters: int = 2,
                 device_type: Optional[str] = None) -> None:
        if begin < 0 or iters < 1:
            raise ValueError('HostSyncAuditHook needs begin >= 0 and '
                             f'iters >= 1, got begin={begin}, iters={iters}')
        self.begin = begin
        self.iters = iters
        self.device_type = device_type
        self.counter: Optional[HostSyncCounter] = None
        self.result: Optional[dict] = None
        self._seen = 0

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Start the count at ``begin``; end it ``iters`` later."""
        if self._seen == self.begin:
            self._start(runner)
        elif self._seen == self.begin + self.iters:
            self._stop(runner)
        self._seen += 1

    def after_train_epoch(self, runner) -> None:
        """End a count that reached the end of the epoch."""
        self._stop(runner)

    def after_train(self, runner) -> None:
        """End a count that reached the end of training."""
        self._stop(runner)

    def _start(self, runner) -> None:
        device_type = self.device_type
        if device_type is None:
            param = next(unwrap_model(runner.model).parameters(), None)
            device_type = param.device.type if param is not None else None
        self.counter = HostSyncCounter(device_type)
        self.counter.__enter__()

    def _stop(self, runner) -> None:
        if self.counter is None:
            return
        counter, self.counter = self.counter, None
        counter.__exit__(None, None, None)
        iters = self._seen - self.begin
        self.result = dict(
            iters=iters,
            total=counter.total,
            per_iter=counter.total / max(iters, 1),
            device_type=counter.device_type,
            by_caller=counter.by_caller())
        print_log(
            f'host synchronisations in {iters} training iteration(s) from '
            f'iteration {self.begin + 1}:\n{counter.summary()}',
            logger='current')
        if is_main_process():
            with open(osp.join(runner.work_dir, 'host_syncs.json'), 'w') as f:
                json.dump(self.result, f, indent=1)
