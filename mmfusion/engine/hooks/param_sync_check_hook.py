"""Checking that the parameters are identical on every rank."""
from typing import Dict, List, Optional, Sequence, Set, Tuple

import torch
import torch.nn as nn
from mmengine.dist import all_gather, get_world_size, is_distributed
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..model_utils import named_submodules, unwrap_model

#: Number of parameter names listed per rank in the error message.
MAX_NAMES = 5


def _fingerprint(param: torch.Tensor) -> torch.Tensor:
    """Sum, sum of squares and a position-weighted sum (float64) of a
    tensor, computed on its device.

    The weighted sum also tells apart tensors that hold the same values in
    other positions.
    """
    values = param.detach().reshape(-1).to(torch.float64)
    weights = torch.arange(
        1, values.numel() + 1, dtype=torch.float64, device=values.device)
    weights = torch.remainder(weights * 0.6180339887498949, 1.0) + 0.5
    return torch.stack(
        [values.sum(), (values * values).sum(), (values * weights).sum()])


def _differ(ref: torch.Tensor, other: torch.Tensor,
            atol: float) -> torch.Tensor:
    """Per row: whether any fingerprint value differs by more than
    ``atol``.  Equal infinities and NaN on both sides count as equal."""
    same = (ref == other) | ((ref - other).abs() <= atol) | (
        torch.isnan(ref) & torch.isnan(other))
    return ~same.all(dim=1)


@HOOKS.register_module()
class ParamSyncCheckHook(Hook):
    """Check that every rank holds the same parameters, and report how much
    the parameters of each module changed.

    Distributed training keeps one copy of the model per rank and relies
    on the gradient synchronisation (e.g. of DistributedDataParallel) to
    keep the copies identical.  Parameters that are not synchronised, e.g.
    ones that did not require gradients when the wrapper was built (see
    :class:`FreezeScheduleHook`), drift apart silently.  This hook makes
    that visible::

        custom_hooks = [
            dict(type='FreezeScheduleHook', modules=['backbones'],
                 freeze_epochs=50),
            dict(type='ParamSyncCheckHook', interval=5)
        ]

    Every ``interval`` epochs (and after the last epoch of training if it
    was not checked), each rank computes a float64 fingerprint of every
    parameter of the unwrapped model, trainable or not: its sum, its sum
    of squares and a sum weighted by a fixed position-dependent weight,
    computed on the parameter's device.  The fingerprints of all ranks are
    gathered and every rank compares them with those of rank 0; if any
    differs by more than ``atol``, every rank raises a ``RuntimeError``
    naming the ranks and the first parameters that differ, e.g.::

        RuntimeError: ParamSyncCheckHook epoch 3: parameters differ
        between ranks: rank 1 vs rank 0: head.bias (max fingerprint
        difference 1.0e-03)

    All ranks decide on the same gathered data, so none of them waits in a
    collective for one that stopped.  Without distributed training only the
    change report below is written.

    For each reported module the hook logs one line through the runner's
    logger, with the number of parameter tensors, how many of them require
    gradients, and the largest absolute change of an element since the
    previous check (for the first check: since the start of training)::

        ParamSyncCheckHook epoch 3: backbones: 120 params (120 trainable)
        identical on 2 ranks, max |change| since epoch 2: 3.1e-03

    where ``identical on 2 ranks`` reads ``1 DIFFERING between 2 ranks``
    when parameters of the module differ, and ``single process`` without
    distributed training.

    The change is also stored as the scalar
    ``train/param_sync/{module}_max_change`` of the message hub, which
    ``LoggerHook`` writes to the training log and the visualizer backends
    (as ``param_sync/{module}_max_change``), and in :attr:`history`.  A
    module that did not train (e.g. a frozen backbone) reports exactly 0.
    To measure the change, the hook keeps a float64 copy of the parameters
    of the reported modules in CPU memory.

    The hook's priority is ``'LOW'``: it checks after the hooks of higher
    priority changed the model at the end of the epoch, and before
    ``CheckpointHook`` (``'VERY_LOW'``), so no checkpoint is saved for an
    epoch whose check failed.  Epochs in messages count from 1, as in the
    training log.

    Args:
        interval (int): Check every ``interval`` epochs. Defaults to 1.
        modules (Sequence[str], optional): Names of modules of the
            unwrapped model to report separately, e.g. ``['backbones',
            'head']``; dotted names of submodules are accepted too.
            Defaults to None: every top-level child module that has
            parameters.  The sync check always covers every parameter of
            the model.
        atol (float): Largest difference of a fingerprint value between
            ranks that still counts as identical. Defaults to 0.0: the
            fingerprints must be equal.

    Attributes:
        history (dict[int, dict[str, float]]): For each checked epoch
            (counted from 1), the max absolute change of each reported
            module since the previous check.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1,
                 modules: Optional[Sequence[str]] = None,
                 atol: float = 0.0) -> None:
        if interval < 1:
            raise ValueError(f'`interval` must be >= 1, got {interval}')
        if atol < 0:
            raise ValueError(f'`atol` must be >= 0, got {atol}')
        if isinstance(modules, str):
            modules = [modules]
        if modules is not None and not modules:
            raise ValueError('`modules` names no module to report')
        self.interval = interval
        self.modules = None if modules is None else list(modules)
        self.atol = atol

        self.history: Dict[int, Dict[str, float]] = {}
        self._reported: Dict[str, List[str]] = {}
        self._snapshot: Dict[str, torch.Tensor] = {}
        self._snapshot_epoch = 0

    # -- hook points --------------------------------------------------

    def before_train(self, runner) -> None:
        """Resolve the reported modules and copy their parameters.

        Args:
            runner (Runner): The runner.
        """
        model = unwrap_model(runner.model)
        if self.modules is None:
            names = [
                name for name, child in model.named_children()
                if any(True for _ in child.parameters())
            ]
        else:
            named_submodules(model, self.modules, 'ParamSyncCheckHook')
            names = self.modules
        param_names = [name for name, _ in model.named_parameters()]
        self._reported = {
            name: [p for p in param_names if p.startswith(f'{name}.')]
            for name in names
        }
        self._snapshot = self._copy_params(model)
        self._snapshot_epoch = runner.epoch

    def after_train_epoch(self, runner) -> None:
        """Check every ``interval`` epochs.

        Args:
            runner (Runner): The runner.
        """
        if self.every_n_epochs(runner, self.interval):
            self._check(runner, runner.epoch + 1)

    def after_train(self, runner) -> None:
        """Check the last epoch if it was not checked.

        Args:
            runner (Runner): The runner.
        """
        # The train loop has counted the last epoch by now.
        if runner.epoch > self._snapshot_epoch:
            self._check(runner, runner.epoch)

    # -- checking -----------------------------------------------------

    def _copy_params(self, model: nn.Module) -> Dict[str, torch.Tensor]:
        """Float64 CPU copies of the parameters of the reported modules."""
        wanted = {p for names in self._reported.values() for p in names}
        return {
            name: param.detach().to('cpu', torch.float64, copy=True)
            for name, param in model.named_parameters() if name in wanted
        }

    def _check(self, runner, epoch: int) -> None:
        """Compare the parameters of all ranks and report the changes of
        epoch ``epoch`` (counted from 1)."""
        model = unwrap_model(runner.model)
        named = list(model.named_parameters())
        mismatches: List[str] = []
        differing: Set[str] = set()
        if is_distributed():
            mismatches, differing = self._compare_ranks(named)
        world_size = get_world_size() if is_distributed() else 1

        current = self._copy_params(model)
        params = dict(named)
        changes: Dict[str, float] = {}
        for module, names in self._reported.items():
            change = 0.0
            for name in names:
                diff = (current[name] - self._snapshot[name]).abs()
                if diff.numel():
                    change = max(change, float(diff.max()))
            changes[module] = change
            runner.message_hub.update_scalar(
                f'train/param_sync/{module}_max_change', change)
            trainable = sum(params[name].requires_grad for name in names)
            num_differing = sum(name in differing for name in names)
            if not is_distributed():
                state = 'single process'
            elif num_differing:
                state = (f'{num_differing} DIFFERING between '
                         f'{world_size} ranks')
            else:
                state = f'identical on {world_size} ranks'
            runner.logger.info(
                f'ParamSyncCheckHook epoch {epoch}: {module}: '
                f'{len(names)} params ({trainable} trainable) {state}, '
                f'max |change| since epoch {self._snapshot_epoch}: '
                f'{change:.1e}')
        self.history[epoch] = changes
        self._snapshot = current
        self._snapshot_epoch = epoch

        if mismatches:
            raise RuntimeError(
                f'ParamSyncCheckHook epoch {epoch}: parameters differ '
                f'between ranks: {"; ".join(mismatches)}')

    def _compare_ranks(self, named: list) -> Tuple[List[str], Set[str]]:
        """Gather the fingerprints of all ranks.

        Returns:
            tuple[list[str], set[str]]: One description per rank whose
            parameters differ from those of rank 0, and the names of all
            parameters that differ on some rank.
        """
        if named:
            device = named[0][1].device
            local = torch.stack(
                [_fingerprint(param).to(device) for _, param in named])
        else:
            local = torch.zeros((0, 3), dtype=torch.float64)
        gathered = [item.cpu() for item in all_gather(local)]
        ref = gathered[0]
        mismatches = []
        differing: Set[str] = set()
        for rank, other in enumerate(gathered[1:], start=1):
            rows = _differ(ref, other, self.atol).nonzero().flatten()
            if not len(rows):
                continue
            differing.update(named[row][0] for row in rows.tolist())
            listed = []
            for row in rows[:MAX_NAMES].tolist():
                diff = (ref[row] - other[row]).abs().max()
                listed.append(f'{named[row][0]} (max fingerprint '
                              f'difference {float(diff):.1e})')
            more = len(rows) - len(listed)
            if more > 0:
                listed.append(f'and {more} more')
            mismatches.append(f'rank {rank} vs rank 0: {", ".join(listed)}')
        return mismatches, differing
