"""Freezing named modules for the first epochs of training."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict
from mmengine.registry import HOOKS, PARAM_SCHEDULERS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from .. import mmengine_internals as internals
from ..model_utils import named_submodules, unwrap_model

DATA_BATCH = Optional[Union[dict, tuple, list]]


class _ByReference:
    """Puts an object into a config that ``copy.deepcopy`` must not copy.

    ``Runner.build_dataloader`` deep-copies its config; the deep copy of
    this holder is the held object itself, so the new dataloader shares the
    dataset (and any state other hooks set on it) with the old one.
    """

    def __init__(self, obj) -> None:
        self.obj = obj

    def __deepcopy__(self, memo):
        return self.obj


def _batch_size(dataloader: DataLoader) -> Optional[int]:
    if dataloader.batch_size is not None:
        return dataloader.batch_size
    return getattr(dataloader.batch_sampler, 'batch_size', None)


def _scheduler_groups(runner) -> List[Tuple[object, list, list]]:
    """(optim wrapper, scheduler configs, built schedulers) per optimizer."""
    cfg = runner.cfg.get('param_scheduler')
    schedulers = runner.param_schedulers
    if cfg is None or schedulers is None:
        return []

    def as_list(cfgs) -> list:
        return list(cfgs) if isinstance(cfgs, (list, tuple)) else [cfgs]

    if isinstance(schedulers, dict):
        per_optim = isinstance(cfg, dict) and 'type' not in cfg
        return [(runner.optim_wrapper[name],
                 as_list(cfg[name] if per_optim else cfg), built)
                for name, built in schedulers.items()]
    return [(runner.optim_wrapper, as_list(cfg), schedulers)]


def _scale_lr_scheduler(scheduler, factor: float) -> None:
    """Multiply the learning rates a scheduler holds by ``factor``."""
    if scheduler.param_name != 'lr':
        return
    scheduler.base_values = [v * factor for v in scheduler.base_values]
    internals.set_last_values(
        scheduler, [v * factor for v in internals.last_values(scheduler)])
    eta_min = getattr(scheduler, 'eta_min', None)
    if isinstance(eta_min, (int, float)):
        scheduler.eta_min = eta_min * factor


@HOOKS.register_module()
class FreezeScheduleHook(Hook):
    """Freeze named modules for the first ``freeze_epochs`` epochs, then
    train everything, optionally with another batch size and learning rate.

    The two-stage schedule of backbone fine-tuning::

        custom_hooks = [
            dict(type='FreezeScheduleHook',
                 modules=['backbones'],       # backbones.rgb, .event
                 freeze_epochs=50,
                 freeze_batch_size=8,
                 unfreeze_batch_size=4,
                 unfreeze_lr=0.005)
        ]

    Stage 1 (epochs ``1 .. freeze_epochs``): the parameters of ``modules``
    do not require gradients and the modules run in eval mode (BatchNorm
    uses and keeps its running statistics, dropout is off), re-applied
    before every iteration because the train loop calls ``model.train()``
    after the ``before_train_epoch`` hooks.  Stage 2: every parameter that
    was trainable before trains.

    The parameters are frozen in ``before_train``, after the optimizer was
    built, so the optimizer holds them from the start and updates them as
    soon as they receive gradients.  At each stage change (the start of
    training, the switch epoch, and a resumed run, which replays the stage
    of its epoch) the hook rebuilds what depends on it:

    - the train dataloader, when the stage's batch size differs from the
      current one.  The new dataloader is built from ``train_dataloader``
      of the config with ``batch_size`` replaced and shares the dataset
      object with the old one; the loop's ``max_iters`` is set to the sum
      of both stages' iterations;
    - parameter schedulers converted from epochs
      (``convert_to_iter_based=True``), whose iteration counts depend on
      the epoch length: they are rebuilt for the new epoch length at the
      same position in the schedule (milestones stay at the same epochs).
      Schedulers given in iterations (``by_epoch=False``) keep their
      iteration counts;
    - the learning rate: with ``unfreeze_lr``, stage 2 follows the
      configured schedule scaled by ``unfreeze_lr / optimizer.lr``
      (per-group multipliers kept), the way a new base learning rate
      would;
    - the distributed wrapper: parameters that do not require gradients
      when DistributedDataParallel is built are never synchronised, and
      parameters that get no gradients stall its reducer, so the unwrapped
      model is wrapped again, with the wrapper config of the runner, each
      time the set of trainable parameters changes.  Stage 1 then neither
      synchronises nor needs ``find_unused_parameters`` for the frozen
      modules, and stage 2 synchronises their gradients.  Hooks that keep
      a reference to the old wrapper (rather than ``runner.model``) do not
      see the new one.

    The stage state (scheduler epoch length, learning-rate scale) is saved
    in checkpoints under ``freeze_schedule``; ``--resume`` from a stage-1
    or a stage-2 checkpoint continues in the stage of its epoch.

    Only epoch-based training (``EpochBasedTrainLoop``) is supported.

    Args:
        modules (Sequence[str]): Dotted names of modules of the unwrapped
            model to freeze, e.g. ``['backbones']`` or
            ``['encoders.visual']``; a name covers all submodules.
        freeze_epochs (int): Number of epochs of stage 1. 0 skips it.
        freeze_batch_size (int, optional): Batch size (per GPU) of stage 1.
            Defaults to None: the config's.
        unfreeze_batch_size (int, optional): Batch size (per GPU) of
            stage 2. Defaults to None: the config's.
        unfreeze_lr (float, optional): Base learning rate of stage 2, in
            place of ``optim_wrapper.optimizer.lr`` of the config.
            Defaults to None: unchanged.
        priority (str | int): Hook priority. Defaults to ``'HIGHEST'``: the
            model and dataloader are replaced before other hooks use them
            (e.g. ``DistSamplerSeedHook`` sets the epoch of the new
            sampler).
    """

    def __init__(self,
                 modules: Sequence[str],
                 freeze_epochs: int,
                 freeze_batch_size: Optional[int] = None,
                 unfreeze_batch_size: Optional[int] = None,
                 unfreeze_lr: Optional[float] = None,
                 priority: Union[str, int] = 'HIGHEST') -> None:
        if isinstance(modules, str):
            modules = [modules]
        if not modules:
            raise ValueError('`modules` names no module to freeze')
        if freeze_epochs < 0:
            raise ValueError(
                f'`freeze_epochs` must be >= 0, got {freeze_epochs}')
        for name, value in (('freeze_batch_size', freeze_batch_size),
                            ('unfreeze_batch_size', unfreeze_batch_size)):
            if value is not None and value < 1:
                raise ValueError(f'`{name}` must be >= 1, got {value}')
        self.modules = list(modules)
        self.freeze_epochs = freeze_epochs
        self.freeze_batch_size = freeze_batch_size
        self.unfreeze_batch_size = unfreeze_batch_size
        self.unfreeze_lr = unfreeze_lr
        self.priority = priority

        self._frozen = False
        self._frozen_modules: List[nn.Module] = []
        self._params: List[nn.Parameter] = []
        self._lr_scale = 1.0
        self._sched_epoch_length: Optional[int] = None
        self._lengths: Dict[Optional[int], int] = {}
        self._loaded: Optional[Tuple[int, dict]] = None

    # -- hook points --------------------------------------------------

    def before_train(self, runner) -> None:
        """Resolve the modules and apply the stage of the current epoch.

        Args:
            runner (Runner): The runner.
        """
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise TypeError('FreezeScheduleHook needs an EpochBasedTrainLoop,'
                            f' got {type(runner.train_loop).__name__}')
        modules = self._resolve(unwrap_model(runner.model))
        # Parameters a config froze on purpose stay frozen in stage 2.
        seen = set()
        self._params = []
        for module in modules:
            for param in module.parameters():
                if param.requires_grad and id(param) not in seen:
                    seen.add(id(param))
                    self._params.append(param)
        self._frozen_modules = modules
        self._frozen = False
        self._lengths = {}
        self._lr_scale = 1.0
        self._sched_epoch_length = len(runner.train_dataloader)

        loaded, self._loaded = self._loaded, None
        if loaded is not None and runner.iter > 0 and \
                loaded[0] == runner.iter:
            state = loaded[1]
            self._lr_scale = state.get('lr_scale', 1.0)
            self._sched_epoch_length = state.get('epoch_length',
                                                 self._sched_epoch_length)
        self._apply(runner, self._is_frozen_epoch(runner.epoch), force=True)

    def before_train_epoch(self, runner) -> None:
        """Switch stage when the epoch leaves the freeze range.

        Args:
            runner (Runner): The runner.
        """
        frozen = self._is_frozen_epoch(runner.epoch)
        if frozen != self._frozen:
            self._apply(runner, frozen)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Keep frozen modules in eval mode.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
        """
        if self._frozen:
            for module in self._frozen_modules:
                module.eval()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Save the stage state in ``checkpoint['freeze_schedule']``.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint to be saved.
        """
        checkpoint['freeze_schedule'] = dict(
            frozen=self._frozen,
            lr_scale=self._lr_scale,
            epoch_length=self._sched_epoch_length)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved stage state until :meth:`before_train` knows
        whether training resumed.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        state = checkpoint.get('freeze_schedule')
        if state is not None:
            self._loaded = (checkpoint.get('meta', {}).get('iter'), state)

    # -- stage switching ----------------------------------------------

    def _is_frozen_epoch(self, epoch: int) -> bool:
        return epoch < self.freeze_epochs

    def _resolve(self, model: nn.Module) -> List[nn.Module]:
        return list(
            named_submodules(model, self.modules,
                             'FreezeScheduleHook').values())

    def _apply(self, runner, frozen: bool, force: bool = False) -> None:
        """Put the run into stage 1 (``frozen``) or stage 2."""
        changed = force or frozen != self._frozen
        for param in self._params:
            param.requires_grad_(not frozen)
            if frozen:
                param.grad = None
        self._frozen = frozen

        self._set_dataloader(runner, frozen)
        self._rescale_schedulers(runner, len(runner.train_dataloader))
        lr_scale = 1.0
        if not frozen and self.unfreeze_lr is not None:
            lr_scale = self.unfreeze_lr / self._base_lr(runner)
        self._scale_lr(runner, lr_scale / self._lr_scale)
        self._lr_scale = lr_scale
        if changed:
            # DDP synchronises the parameters that required gradients
            # when it was built
            internals.rewrap_ddp(runner)

        stage = 1 if frozen else 2
        num = sum(p.numel() for p in self._params)
        runner.logger.info(
            f'FreezeScheduleHook: stage {stage} from epoch '
            f'{runner.epoch + 1}: {", ".join(self.modules)} '
            f'({num} parameters) {"frozen" if frozen else "trainable"}, '
            f'batch size {_batch_size(runner.train_dataloader)}, '
            f'lr {self._current_lr(runner)}')

    def _stage_batch_size(self, frozen: bool) -> Optional[int]:
        return self.freeze_batch_size if frozen else self.unfreeze_batch_size

    @staticmethod
    def _loader_cfg(runner) -> dict:
        cfg = runner.cfg.get('train_dataloader')
        if cfg is None:
            raise RuntimeError(
                'FreezeScheduleHook needs `train_dataloader` in the config '
                'of the runner (build it with `Runner.from_cfg`)')
        return cfg

    def _build_dataloader(self, runner, batch_size: int) -> DataLoader:
        """The train dataloader of the config with another batch size,
        sharing the current dataset object."""
        # ``build_dataloader`` slices ``num_batch_per_epoch`` batches of the
        # new size from the whole dataset.
        dataset = internals.unsliced_dataset(runner.train_dataloader.dataset)
        cfg = copy.deepcopy(self._loader_cfg(runner))
        cfg['dataset'] = _ByReference(dataset)
        cfg['batch_size'] = batch_size
        return runner.build_dataloader(
            cfg,
            seed=runner.seed,
            diff_rank_seed=internals.diff_rank_seed(runner))

    def _epoch_length(self, runner, batch_size: Optional[int]) -> int:
        if batch_size is None:
            batch_size = self._loader_cfg(runner)['batch_size']
        if batch_size not in self._lengths:
            current = runner.train_dataloader
            if _batch_size(current) == batch_size:
                self._lengths[batch_size] = len(current)
            else:
                self._lengths[batch_size] = len(
                    self._build_dataloader(runner, batch_size))
        return self._lengths[batch_size]

    def _set_dataloader(self, runner, frozen: bool) -> None:
        loop = runner.train_loop
        batch_size = self._stage_batch_size(frozen)
        if batch_size is None:
            batch_size = self._loader_cfg(runner)['batch_size']
        if _batch_size(loop.dataloader) != batch_size:
            loop.dataloader = self._build_dataloader(runner, batch_size)
            self._lengths[batch_size] = len(loop.dataloader)

        num_frozen = min(self.freeze_epochs, loop.max_epochs)
        max_iters = (
            num_frozen * self._epoch_length(runner, self.freeze_batch_size) +
            (loop.max_epochs - num_frozen) *
            self._epoch_length(runner, self.unfreeze_batch_size))
        if max_iters != loop.max_iters:
            internals.set_max_iters(loop, max_iters)
            runner.optim_wrapper.initialize_count_status(
                runner.model, runner.iter, max_iters)

    def _rescale_schedulers(self, runner, epoch_length: int) -> None:
        """Rebuild schedulers converted from epochs for ``epoch_length``
        iterations per epoch, at the same position of the schedule."""
        old_length = self._sched_epoch_length
        if old_length == epoch_length:
            return
        for optim_wrapper, cfgs, schedulers in _scheduler_groups(runner):
            for i, (cfg, old) in enumerate(zip(cfgs, schedulers)):
                if not (isinstance(cfg, dict) and cfg.get('by_epoch', True)
                        and cfg.get('convert_to_iter_based', False)):
                    continue
                cfg = copy.deepcopy(cfg)
                cfg.setdefault('end', runner.max_epochs)
                groups = optim_wrapper.param_groups
                values = [group[old.param_name] for group in groups]
                global_step = internals.wrapper_step(optim_wrapper)
                new = PARAM_SCHEDULERS.build(
                    cfg,
                    default_args=dict(
                        optimizer=optim_wrapper, epoch_length=epoch_length))
                # Building stepped the new scheduler once: undo its effect.
                for group, value in zip(groups, values):
                    group[old.param_name] = value
                if global_step is not None:
                    internals.set_wrapper_step(optim_wrapper, global_step)
                step = round(
                    internals.scheduler_step(old) * epoch_length / old_length)
                internals.set_scheduler_step(new, step)
                new.last_step = max(-1, min(step, new.end - 1) - new.begin)
                internals.set_last_values(new, values)
                new.base_values = list(old.base_values)
                if isinstance(getattr(new, 'eta_min', None), (int, float)):
                    new.eta_min = old.eta_min
                schedulers[i] = new
        self._sched_epoch_length = epoch_length

    def _base_lr(self, runner) -> float:
        if isinstance(runner.optim_wrapper, OptimWrapperDict):
            raise TypeError('`unfreeze_lr` needs a single optimizer')
        return runner.cfg.optim_wrapper['optimizer']['lr']

    def _scale_lr(self, runner, factor: float) -> None:
        if factor == 1.0:
            return
        for group in runner.optim_wrapper.param_groups:
            group['lr'] = group['lr'] * factor
            if 'initial_lr' in group:
                group['initial_lr'] = group['initial_lr'] * factor
        for _, _, schedulers in _scheduler_groups(runner):
            for scheduler in schedulers:
                _scale_lr_scheduler(scheduler, factor)

    def _current_lr(self, runner) -> str:
        lrs = runner.optim_wrapper.get_lr()
        if list(lrs) == ['lr']:
            return f'{lrs["lr"][0]:.4g}'
        return ', '.join(f'{k}={v[0]:.4g}' for k, v in lrs.items())
