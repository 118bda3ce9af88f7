"""Epoch-based training that resumes inside an epoch."""
from typing import Iterator

from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop

from mmfusion.utils.rng_state import get_rng_state, set_rng_state

#: Message hub key of the epoch in progress and its first iteration.
EPOCH_START_KEY = 'train_epoch_start'


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """:class:`~mmengine.runner.EpochBasedTrainLoop` that continues an
    interrupted epoch with its remaining batches.

    mmengine resumes at epoch boundaries: a run resumed from a checkpoint
    written inside an epoch (``AtomicCheckpointHook(interval_iters=N)``, or
    ``by_epoch=False`` checkpoints) starts that epoch again from its first
    batch while the iteration counter goes on from the checkpoint's, so it
    trains on part of the epoch twice and is not the uninterrupted run.

    This loop records the epoch in progress and its first iteration in the
    message hub (saved in every checkpoint, key ``'train_epoch_start'``).
    When training resumes inside that epoch, the dataloader's
    :class:`~mmfusion.datasets.samplers.ResumableBatchSampler` skips the
    batches already trained on (without loading them) and the batch
    indices that hooks see go on from there.

    Creating a DataLoader iterator draws its workers' base seed from
    torch's global generator; persistent workers reuse their iterator, and
    a resumed run creates it where the interrupted one did not. Here the
    generators are put back after the iterator is created, so the training
    stream does not depend on either. Together with the sample seeds of
    the batch sampler and :class:`~mmfusion.engine.RNGStateHook`, a run
    killed inside an epoch and resumed reproduces the uninterrupted one bit
    for bit under deterministic settings, with any number of workers,
    persistent or not.

    Config: ``train_cfg = dict(type='ResumableEpochBasedTrainLoop',
    max_epochs=..., val_interval=...)`` and
    ``train_dataloader.batch_sampler = dict(type='ResumableBatchSampler')``.
    Takes the arguments of ``EpochBasedTrainLoop``.
    """

    def run_epoch(self) -> None:
        """Iterate one epoch, or the rest of the one training resumed in."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._batches_done()
        self.runner.message_hub.update_info(
            EPOCH_START_KEY,
            dict(epoch=self._epoch, start_iter=self._iter - done))
        if done:
            self._skip(done)
        for idx, data_batch in enumerate(self._iterator(), done):
            self.run_iter(idx, data_batch)

        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _iterator(self) -> Iterator:
        """``iter(self.dataloader)``, leaving the global generators as they
        were."""
        state = get_rng_state()
        iterator = iter(self.dataloader)
        set_rng_state(state)
        return iterator

    def _batches_done(self) -> int:
        """Batches of the current epoch trained on before a resume."""
        info = self.runner.message_hub.get_info(EPOCH_START_KEY)
        if not info or info['epoch'] != self._epoch:
            return 0
        done = self._iter - info['start_iter']
        if not 0 <= done <= len(self.dataloader):
            raise RuntimeError(
                f'cannot resume inside epoch {self._epoch + 1}: the '
                f'checkpoint is at its batch {done}, but the epoch has '
                f'{len(self.dataloader)} batches (was the batch size or the '
                'dataset changed?)')
        return done

    def _skip(self, done: int) -> None:
        batch_sampler = self.dataloader.batch_sampler
        if not hasattr(batch_sampler, 'skip_batches'):
            raise RuntimeError(
                f'resuming inside epoch {self._epoch + 1} (after {done} of '
                f'its {len(self.dataloader)} batches) needs '
                "train_dataloader.batch_sampler=dict(type="
                "'ResumableBatchSampler'), got "
                f'{type(batch_sampler).__name__}')
        batch_sampler.skip_batches(done)
        self.runner.logger.info(
            f'Resuming inside epoch {self._epoch + 1}: its first {done} of '
            f'{len(self.dataloader)} batches were trained on before, '
            'training goes on with the next one.')
