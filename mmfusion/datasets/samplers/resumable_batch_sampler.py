"""Batches whose samples are loaded under their own seeds, and that can
start after the batches a resumed run has already trained on."""
from typing import Iterator, List, Sequence

from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import BatchSampler, Sampler

from mmfusion.utils.rng_state import get_rng_state, seed_cpu_rng, set_rng_state


class SeededBatch(list):
    """The dataset indices of one batch, each loaded under its own seed.

    The DataLoader's fetcher loads a batch by iterating it and calling
    ``dataset[index]`` for each index in turn (in the worker process, or
    in the main process with ``num_workers=0``). Iterating a
    ``SeededBatch`` seeds python ``random``, numpy and torch (CPU) with the
    index's seed before handing the index out, and puts the iterating
    process' generators back once the batch is done (or abandoned). The
    random transforms of a sample, including the partner indices that
    mixing datasets (Mosaic, MixUp) draw, then depend on its seed only: not
    on which worker loads it, on what that worker loaded before
    (``persistent_workers``), or on ``num_workers``.

    Args:
        indices (Sequence[int]): Dataset indices.
        seeds (Sequence[tuple[int, ...]]): Entropy of each index's seed
            (see :func:`mmfusion.utils.rng_state.seed_cpu_rng`).
    """

    def __init__(self, indices: Sequence[int], seeds: Sequence[tuple]) -> None:
        super().__init__(indices)
        if len(seeds) != len(indices):
            raise ValueError(f'{len(seeds)} seeds for {len(indices)} indices')
        self.seeds = list(seeds)

    def __iter__(self) -> Iterator[int]:
        saved = get_rng_state()
        try:
            for index, seed in zip(super().__iter__(), self.seeds):
                seed_cpu_rng(*seed)
                yield index
        finally:
            set_rng_state(saved)

    def __reduce__(self):
        # Pickled into the workers' index queues without iterating.
        return type(self), (list(super().__iter__()), self.seeds)


@DATA_SAMPLERS.register_module()
class ResumableBatchSampler(BatchSampler):
    """Batches of a sampler's indices, each sample with its own seed, that
    can skip the first batches of an epoch.

    Config: ``train_dataloader = dict(batch_sampler=dict(
    type='ResumableBatchSampler'), sampler=dict(type='DefaultSampler',
    shuffle=True), ...)`` (``batch_size`` and ``drop_last`` are passed as
    for mmengine's default batch sampler).

    - Seeds: the ``k``-th sample of an epoch on a rank is loaded under the
      seed ``(sampler.seed, sampler.epoch, sampler.rank, k)`` (see
      :class:`SeededBatch`), so that its augmentation is reproducible by
      itself, the basis of resuming inside an epoch with any number of
      (persistent) workers.
    - Resuming: :meth:`skip_batches` makes the next epoch's iteration start
      after the given number of batches, without loading them. With a
      sampler that is deterministic given its seed and epoch (mmengine's
      ``DefaultSampler``), the remaining batches are exactly those of the
      interrupted epoch (see
      :class:`~mmfusion.engine.ResumableEpochBasedTrainLoop`).

    Args:
        sampler (Sampler): Yields the dataset indices of an epoch; its
            ``seed``, ``epoch`` and ``rank`` attributes (0 when absent)
            enter the sample seeds.
        batch_size (int): Samples per batch.
        drop_last (bool): Drop the last incomplete batch. Defaults to
            False.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 drop_last: bool = False) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self._skip = 0

    def skip_batches(self, num: int) -> None:
        """Start the next iteration after its first ``num`` batches.

        Args:
            num (int): Batches to skip, in ``[0, len(self)]``.
        """
        if not 0 <= num <= len(self):
            raise ValueError(
                f'cannot skip {num} of the {len(self)} batches of an epoch')
        self._skip = num

    def __iter__(self) -> Iterator[List[int]]:
        skip, self._skip = self._skip, 0
        entropy = tuple(
            int(getattr(self.sampler, key, 0) or 0)
            for key in ('seed', 'epoch', 'rank'))
        for i, batch in enumerate(super().__iter__()):
            if i < skip:
                continue
            first = i * self.batch_size
            yield SeededBatch(
                batch, [entropy + (first + j, ) for j in range(len(batch))])
