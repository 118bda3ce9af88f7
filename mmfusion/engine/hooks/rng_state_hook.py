"""Saving and restoring the random number generators with checkpoints."""
from typing import Optional

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmfusion.utils.rng_state import get_rng_state, set_rng_state


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make resumed training draw the same random numbers as an
    uninterrupted run.

    mmengine restores the model, optimizer, schedulers, message hub and the
    sampler's epoch seed on resume, but not the global random generators
    (python ``random``, numpy, torch, CUDA) that dropout, random
    augmentation in the main process and the DataLoader's worker base seed
    draw from.  This hook saves them in every checkpoint (key
    ``rng_state``) and restores them when training resumes.

    The generators' state is fixed at the end of each training epoch and
    put back at the start of the next one, so validation, which draws from
    them too (each DataLoader iterator draws a seed), does not change the
    training stream: checkpoints written at the end of an epoch hold
    exactly the state the next epoch starts from, whether or not that run
    went on to validate.  With ``randomness=dict(seed=..., deterministic=
    True)`` a run resumed from an epoch-end checkpoint then reproduces the
    uninterrupted run bit for bit.

    A checkpoint written inside an epoch (after an iteration) holds the
    state of that moment, which is restored at the start of the resumed,
    partial epoch: with :class:`~mmfusion.engine.ResumableEpochBasedTrainLoop`
    (whose DataLoader iterators leave the generators as they were) such a
    run reproduces the uninterrupted one as well.

    Workers do not share the main process' generators: the data pipeline's
    random draws are reproduced by the sample seeds of
    :class:`~mmfusion.datasets.samplers.ResumableBatchSampler`, with any
    number of workers, persistent or not. Without it, mmengine's
    ``worker_init_fn`` reseeds each worker from ``seed + worker_id`` when an
    epoch starts new workers, which reproduces resumes at epoch boundaries
    without ``persistent_workers`` only.

    In distributed training the checkpoint holds rank 0's states; every
    rank restores them, except with ``randomness.diff_rank_seed=True``,
    where ranks other than 0 keep their freshly seeded state.

    ``load_from`` (fine-tuning) does not restore the generators: only a
    resume does.

    Args:
        priority (str | int): Hook priority. Defaults to ``'LOWEST'``: the
            state is fixed after every other hook's ``after_train_epoch``
            (including the checkpoint written there) and restored after
            every other hook's ``before_train_epoch``.
    """

    def __init__(self, priority='LOWEST') -> None:
        self.priority = priority
        self._epoch_end_state: Optional[dict] = None
        self._loaded: Optional[tuple] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the generators' state in ``checkpoint['rng_state']``.

        Between the end of a training epoch and the start of the next one
        (e.g. a best checkpoint written after validation) this is the state
        of the epoch end.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint to be saved.
        """
        state = self._epoch_end_state
        checkpoint['rng_state'] = get_rng_state() if state is None else state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the loaded state until :meth:`before_train` knows whether
        this is a resume.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        state = checkpoint.get('rng_state')
        if state is not None:
            self._loaded = (checkpoint.get('meta', {}).get('iter'), state)

    def before_train(self, runner) -> None:
        """Schedule the loaded state for restoring if training resumed.

        Args:
            runner (Runner): The runner.
        """
        loaded, self._loaded = self._loaded, None
        # A resume sets the loop's iteration to the checkpoint's; loading
        # weights with ``load_from`` leaves it at 0.
        if loaded is None or runner.iter == 0 or loaded[0] != runner.iter:
            return
        diff_rank_seed = runner.cfg.get('randomness',
                                        {}).get('diff_rank_seed', False)
        if diff_rank_seed and get_rank() != 0:
            return
        self._epoch_end_state = loaded[1]

    def before_train_epoch(self, runner) -> None:
        """Restore the state of the previous epoch's end (or of the
        checkpoint training resumed from).

        Args:
            runner (Runner): The runner.
        """
        if self._epoch_end_state is not None:
            set_rng_state(self._epoch_end_state)
            self._epoch_end_state = None

    def after_train_epoch(self, runner) -> None:
        """Fix the generators' state at the end of the epoch.

        Args:
            runner (Runner): The runner.
        """
        self._epoch_end_state = get_rng_state()
