"""Every access of mmfusion to mmengine's private state, in one place.

:class:`~mmfusion.engine.FreezeScheduleHook` changes the batch size, the
epoch length and the trainable parameters in the middle of training, which
mmengine has no public API for. What that takes is written here, against
mmengine 0.10.7: the train loop's ``_max_iters``, the runner's
``_randomness_cfg``, ``_SlicedDataset._dataset`` (``num_batch_per_epoch``),
the parameter schedulers' ``_global_step`` / ``_last_value`` and the
optimizer wrapper's ``_global_step``, and the re-wrapping of the model in
a new ``DistributedDataParallel``. :class:`~mmfusion.engine.
AtomicCheckpointHook` reads whether the runner resumes without a
checkpoint path (``_resume``, ``_load_from``) and overrides
``CheckpointHook._save_checkpoint_with_step``.

Each accessor checks that the attribute it needs is still there and raises
:class:`MMEngineInternalsError` naming it otherwise;
``tests/test_mmfusion/test_engine/test_mmengine_internals.py`` runs every
accessor against the installed mmengine, so an mmengine release that moves
one of them fails there first, with that message.
"""
import copy
import gc
from typing import Any, List, Optional

import mmengine
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner.runner import _SlicedDataset
from torch.nn.parallel import DistributedDataParallel

#: The mmengine release these accessors were written and tested against.
WRITTEN_FOR = '0.10.7'


class MMEngineInternalsError(RuntimeError):
    """mmengine no longer has private state that mmfusion relies on."""


def _require(obj: Any, name: str, what: str) -> None:
    if not hasattr(obj, name):
        raise MMEngineInternalsError(
            f'mmengine {mmengine.__version__}: {what} has no attribute '
            f'{name!r} any more (mmfusion was written for mmengine '
            f'{WRITTEN_FOR}); update mmfusion/engine/mmengine_internals.py')


def unsliced_dataset(dataset: Any) -> Any:
    """The dataset of a train dataloader built with
    ``num_batch_per_epoch`` (a ``_SlicedDataset``), or ``dataset``."""
    if isinstance(dataset, _SlicedDataset):
        _require(dataset, '_dataset', '_SlicedDataset')
        return dataset._dataset
    return dataset


def diff_rank_seed(runner) -> bool:
    """The runner's ``randomness.diff_rank_seed``."""
    _require(runner, '_randomness_cfg', 'Runner')
    return bool(runner._randomness_cfg.get('diff_rank_seed', False))


def set_max_iters(loop, max_iters: int) -> None:
    """Set the number of iterations of an ``EpochBasedTrainLoop`` (its
    ``max_iters`` property has no setter)."""
    _require(loop, '_max_iters', type(loop).__name__)
    loop._max_iters = max_iters


def scheduler_step(scheduler) -> int:
    """The number of steps a parameter scheduler took (``_global_step``,
    counted in iterations for schedulers converted from epochs)."""
    _require(scheduler, '_global_step', type(scheduler).__name__)
    return scheduler._global_step


def set_scheduler_step(scheduler, step: int) -> None:
    """Move a parameter scheduler to ``step`` (see :func:`scheduler_step`);
    its ``last_step`` is public and set by the caller."""
    _require(scheduler, '_global_step', type(scheduler).__name__)
    scheduler._global_step = step


def wrapper_step(optim_wrapper) -> Optional[int]:
    """The step count that parameter schedulers keep on the optimizer
    wrapper they drive (``_global_step``), None without schedulers."""
    return getattr(optim_wrapper, '_global_step', None)


def set_wrapper_step(optim_wrapper, step: int) -> None:
    """Restore the step count of :func:`wrapper_step` (building a
    scheduler resets it)."""
    optim_wrapper._global_step = step


def last_values(scheduler) -> List[float]:
    """The values a parameter scheduler set last (``_last_value``)."""
    _require(scheduler, '_last_value', type(scheduler).__name__)
    return scheduler._last_value


def set_last_values(scheduler, values: List[float]) -> None:
    """Set the values a parameter scheduler set last."""
    _require(scheduler, '_last_value', type(scheduler).__name__)
    scheduler._last_value = values


def resumes_latest(runner) -> bool:
    """Whether the runner resumes from the latest checkpoint of its work
    dir (``resume=True`` without ``load_from``), which it reads from
    ``last_checkpoint`` after the ``before_run`` hooks."""
    _require(runner, '_resume', 'Runner')
    _require(runner, '_load_from', 'Runner')
    return bool(runner._resume) and runner._load_from is None


def rewrap_ddp(runner) -> None:
    """Wrap the model inside ``runner.model`` in a new
    ``DistributedDataParallel`` built from the runner's wrapper config, so
    that exactly the parameters that require gradients now are
    synchronised. Nothing happens for a model that is not in a DDP
    wrapper.

    Args:
        runner (Runner): The runner.
    """
    old = runner.model
    if not isinstance(old, DistributedDataParallel):
        return
    module = old.module
    cfg = runner.cfg.get('model_wrapper_cfg')
    cfg = dict(type='MMDistributedDataParallel') if cfg is None else \
        copy.deepcopy(dict(cfg))
    cfg.setdefault('type', 'MMDistributedDataParallel')
    if cfg['type'] == 'MMDistributedDataParallel':
        # The runner's defaults without a wrapper config.
        cfg.setdefault('broadcast_buffers', False)
        cfg.setdefault('find_unused_parameters',
                       runner.cfg.get('find_unused_parameters', False))
    default_args = dict(module=module, device_ids=old.device_ids)
    # Drop the old wrapper first: its reducer's autograd hooks live on the
    # parameters until it is freed.
    runner.model = None
    del old
    gc.collect()
    runner.model = MODEL_WRAPPERS.build(cfg, default_args=default_args)
