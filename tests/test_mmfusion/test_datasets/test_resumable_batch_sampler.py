"""ResumableBatchSampler through real DataLoaders built by mmengine: every
sample draws the same random numbers with any number of workers, persistent
or not, and skipped batches are those an uninterrupted epoch starts with."""
import pickle
import random

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmfusion.datasets.samplers import ResumableBatchSampler, SeededBatch
from mmfusion.utils.rng_state import get_rng_state

NUM_SAMPLES = 22
BATCH_SIZE = 4


class RandomDraws(Dataset):
    """Each sample: its index and one draw of python, numpy and torch."""

    def __len__(self) -> int:
        return NUM_SAMPLES

    def __getitem__(self, idx: int) -> tuple:
        return (int(idx), random.random(), float(np.random.rand()),
                float(torch.rand(1)))


def _loader(num_workers: int, persistent: bool = False):
    return Runner.build_dataloader(
        dict(
            batch_size=BATCH_SIZE,
            num_workers=num_workers,
            persistent_workers=persistent,
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='ResumableBatchSampler'),
            collate_fn=dict(type='pseudo_collate'),
            dataset=RandomDraws()),
        seed=7)


def _epochs(loader, num_epochs: int = 2, skip: int = 0) -> list:
    """Samples of each epoch, as (index, draws) tuples."""
    epochs = []
    for epoch in range(num_epochs):
        loader.batch_sampler.sampler.set_epoch(epoch)
        if skip:
            loader.batch_sampler.skip_batches(skip)
        epochs.append([sample for batch in loader for sample in zip(*batch)])
    return epochs


def test_samples_draw_the_same_with_any_workers():
    expected = _epochs(_loader(0))
    assert isinstance(_loader(0).batch_sampler, ResumableBatchSampler)
    assert sorted(s[0] for s in expected[0]) == list(range(NUM_SAMPLES))
    # epochs shuffle differently and draw differently
    assert expected[0] != expected[1]
    assert len({s[1:] for epoch in expected for s in epoch}) == 2 * NUM_SAMPLES
    assert _epochs(_loader(2)) == expected
    assert _epochs(_loader(3, persistent=True)) == expected


def test_loading_leaves_the_main_process_generators_alone():
    random.seed(1)
    # Creating the iterator draws its base seed; loading draws nothing.
    batches = iter(_loader(0))
    before = get_rng_state()
    assert len(list(batches)) == 6
    after = get_rng_state()
    assert before['python'] == after['python']
    assert np.array_equal(before['numpy'][1], after['numpy'][1])
    assert torch.equal(before['torch'], after['torch'])


def test_skipped_batches_are_the_first_of_the_epoch():
    full = _epochs(_loader(2))
    skipped = _epochs(_loader(2), skip=3)
    for epoch, tail in zip(full, skipped):
        assert tail == epoch[3 * BATCH_SIZE:]
    loader = _loader(0)
    assert len(loader) == 6  # ceil(22 / 4), also while skipping
    loader.batch_sampler.skip_batches(6)
    assert list(loader) == []
    # the skip is for one iteration only
    assert len(list(loader)) == 6
    with pytest.raises(ValueError, match='cannot skip 7 of the 6 batches'):
        loader.batch_sampler.skip_batches(7)


def test_seeded_batch_pickles_without_drawing():
    batch = SeededBatch([3, 5], [(0, 1, 0, 0), (0, 1, 0, 1)])
    state = get_rng_state()
    copy = pickle.loads(pickle.dumps(batch))
    assert list.__iter__(copy) is not None and copy.seeds == batch.seeds
    assert list(copy) == [3, 5]
    assert torch.equal(get_rng_state()['torch'], state['torch'])
    with pytest.raises(ValueError, match='1 seeds for 2 indices'):
        SeededBatch([3, 5], [(0, )])
