"""Every accessor of mmengine's private state, against the installed
mmengine: a release that moves one of them fails here, with a message
naming the attribute (see ``mmfusion/engine/mmengine_internals.py``)."""
import inspect

import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

import mmfusion.engine  # noqa: F401  (registers the hooks)
from mmfusion.engine import mmengine_internals as internals
from tests.test_mmfusion.toy_modules import (ToyRegressionDataset,
                                             toy_regression_runner_cfg)


@pytest.fixture
def runner(tmp_path):
    """A runner on the toy regression model with a sliced train
    dataloader (``num_batch_per_epoch``) and an epoch-based scheduler
    converted to iterations, its train loop and schedulers built."""
    cfg = toy_regression_runner_cfg(
        str(tmp_path),
        max_epochs=3,
        param_scheduler=[
            dict(
                type='MultiStepLR',
                milestones=[2],
                by_epoch=True,
                convert_to_iter_based=True)
        ],
        randomness=dict(seed=0, diff_rank_seed=True))
    cfg['train_dataloader']['num_batch_per_epoch'] = 2
    runner = Runner.from_cfg(Config(cfg))
    # what Runner.train builds before the first hook runs
    runner.train_loop
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(
        runner.param_schedulers)
    return runner


def test_sliced_dataset_and_randomness(runner):
    sliced = runner.train_dataloader.dataset
    assert type(sliced).__name__ == '_SlicedDataset' and len(sliced) == 12
    dataset = internals.unsliced_dataset(sliced)
    assert isinstance(dataset, ToyRegressionDataset) and len(dataset) == 24
    assert internals.unsliced_dataset(dataset) is dataset
    assert internals.diff_rank_seed(runner) is True


def test_loop_max_iters(runner):
    loop = runner.train_loop
    assert loop.max_iters == 3 * 2
    internals.set_max_iters(loop, 17)
    assert loop.max_iters == 17  # the public property reads it back


def test_scheduler_and_wrapper_steps(runner):
    (scheduler, ) = runner.param_schedulers
    assert internals.scheduler_step(scheduler) == 0
    assert internals.wrapper_step(runner.optim_wrapper) == -1
    internals.set_scheduler_step(scheduler, 5)
    internals.set_wrapper_step(runner.optim_wrapper, 5)
    assert internals.scheduler_step(scheduler) == 5
    assert internals.wrapper_step(runner.optim_wrapper) == 5
    # the values the scheduler set last, as its public getter reports them
    assert internals.last_values(scheduler) == scheduler.get_last_value()
    internals.set_last_values(scheduler, [0.123])
    assert scheduler.get_last_value() == [0.123]


def test_model_outside_ddp_is_not_rewrapped(runner):
    model = runner.model
    internals.rewrap_ddp(runner)
    assert runner.model is model


def test_missing_internals_fail_loudly():
    with pytest.raises(
            internals.MMEngineInternalsError,
            match=r"mmengine .*: object has no attribute '_max_iters' any "
            r'more \(mmfusion was written for mmengine 0\.10\.7\); update '
            r'mmfusion/engine/mmengine_internals\.py'):
        internals.set_max_iters(object(), 3)


def test_resume_flags_and_checkpoint_hook_override(runner):
    assert internals.resumes_latest(runner) is False
    runner._resume, runner._load_from = True, None
    assert internals.resumes_latest(runner) is True
    runner._load_from = 'epoch_1.pth'
    assert internals.resumes_latest(runner) is False
    # AtomicCheckpointHook overrides this method of CheckpointHook: it must
    # still be what CheckpointHook calls to write a checkpoint
    assert '_save_checkpoint_with_step' in vars(CheckpointHook)
    assert 'self._save_checkpoint_with_step(' in inspect.getsource(
        CheckpointHook)
