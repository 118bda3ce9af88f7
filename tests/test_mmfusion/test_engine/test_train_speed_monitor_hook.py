"""TrainSpeedMonitorHook with the real Runner on the toy classifier: the
window starts after the warm-up and the prefetch drain, counts every image,
is written as JSON, and the run stops at the end of its epoch."""
import gc
import gzip
import json
import math

import pytest
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from mmfusion.engine import TrainSpeedMonitorHook
from tests.test_mmfusion.toy_modules import toy_config

BATCH = 6
ITERS_PER_EPOCH = 4  # 24 toy samples


@HOOKS.register_module(force=True)
class _FullCollectionHook(Hook):
    """Runs a full garbage collection after the given training
    iterations."""

    def __init__(self, iters=()):
        self.iters = set(iters)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter in self.iters:
            gc.collect()


def _train(tmp_path,
           max_epochs=5,
           num_workers=0,
           compile_cfg=None,
           other_hooks=(),
           **hook_args) -> tuple:
    cfg = toy_config(tmp_path, max_epochs=max_epochs)
    cfg.train_cfg.val_interval = 100
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    if compile_cfg is not None:  # mmengine's Runner option ``compile``
        cfg.compile = compile_cfg
    cfg.custom_hooks = [
        *other_hooks,
        dict(type='TrainSpeedMonitorHook', **hook_args)
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(
        h for h in runner.hooks if isinstance(h, TrainSpeedMonitorHook))
    return runner, hook


def test_window_after_warmup_then_stop_at_epoch_end(tmp_path):
    runner, hook = _train(tmp_path, warmup_iters=2, window_iters=5)
    results = hook.results
    assert results['complete']
    window = results['window']
    assert window['iters'] == 5
    assert window['images'] == 5 * BATCH
    assert math.isclose(window['images_per_s'],
                        window['images'] / window['seconds'])
    assert 0 <= window['data_wait_fraction'] < 1
    assert len(window['iter_times']) == len(window['data_times']) == 5
    assert window['iter_s']['p10'] <= window['iter_s']['median'] <= \
        window['iter_s']['max']
    # data + steps + epoch boundaries make up the window's wall clock
    assert -1e-3 < window['other_s'] < window['seconds']
    assert window['compiles'] == 0
    # no workers: nothing to drain; no GPU, no multi-scale resizer
    assert results['warmup']['iters'] == 2
    assert results['warmup']['drain_iters'] == 0
    assert results['warmup']['sizes'] == []
    assert results['memory'] is None and results['gpu'] is None
    assert results['one_time']['dataloader_start_s'] >= 0
    assert results['one_time']['compiles'] == 0
    # iterations 2-6 measured; the run stops after epoch 2 (iterations 4-7)
    assert runner.iter == 2 * ITERS_PER_EPOCH
    assert runner.epoch == 2
    with open(tmp_path / 'train_speed.json') as f:
        assert json.load(f) == json.loads(json.dumps(results))


def test_warmup_drains_the_prefetch_queue(tmp_path):
    """One worker prefetching two batches: the window starts two
    iterations after the first (the dataloader's start)."""
    _, hook = _train(tmp_path, num_workers=1, warmup_iters=1, window_iters=3)
    warmup = hook.results['warmup']
    assert warmup['prefetch_depth'] == 2 and warmup['drain_iters'] == 2
    assert warmup['last_stall_iter'] == 0
    assert warmup['iters'] == 3
    workers = hook.results['workers']
    assert workers['num_workers'] == 1
    assert workers['cpu_s'] >= 0
    assert workers['cpu_ms_per_sample'] >= 0


def test_garbage_collections_are_timed_per_iteration(tmp_path):
    """A full collection made in the window's third iteration (by a hook:
    the runner's iteration 4) is counted and timed in that iteration."""
    _, hook = _train(
        tmp_path,
        warmup_iters=2,
        window_iters=5,
        other_hooks=[dict(type='_FullCollectionHook', iters=[4])])
    window = hook.results['window']
    assert window['gc']['gen2']['count'] >= 1
    assert window['gc']['gen2']['seconds'] > 0
    times = window['gc_times']
    assert len(times) == 5 and times[2] > 0
    # collections between iterations (the data fetch) count in the total
    assert sum(times) <= sum(g['seconds']
                             for g in window['gc'].values()) + 1e-9
    assert gc.callbacks.count(hook._gc) == 0  # removed at the window's end


def test_run_ending_inside_the_window_is_reported_incomplete(tmp_path):
    runner, hook = _train(
        tmp_path, max_epochs=2, warmup_iters=1, window_iters=100)
    results = hook.results
    assert not results['complete']
    # the warm-up ends after the first iteration (a stall: the dataloader's
    # start) and one without a stall
    assert results['warmup']['iters'] == 2
    assert results['window']['iters'] == 2 * ITERS_PER_EPOCH - 2
    assert results['window']['images'] == (2 * ITERS_PER_EPOCH - 2) * BATCH


def test_compilations_are_one_time_costs_before_the_window(tmp_path):
    """mmengine's ``compile`` (``train_step`` through dynamo, which
    recompiles it in several early iterations): the compilations before
    the window are one-time costs, and the window starts after an
    iteration without any."""
    _, hook = _train(
        tmp_path,
        compile_cfg=dict(backend='eager'),
        warmup_iters=1,
        window_iters=3)
    results = hook.results
    one_time = results['one_time']
    assert one_time['compiles'] >= 1
    assert one_time['compile_s'] > 0
    assert len(one_time['compile_events']) == one_time['compiles']
    assert {e['kind']
            for e in one_time['compile_events']
            } <= {'dynamo', 'lazy_backward'}
    warmup = results['warmup']
    assert warmup['last_stall_iter'] >= 0
    assert warmup['iters'] >= warmup['last_stall_iter'] + 2
    window = results['window']
    assert window['compiles'] == len(window['compile_events'])


def test_time_limit_cuts_the_window_short(tmp_path):
    """Past its time limit the run reports the window it has and stops."""
    runner, hook = _train(
        tmp_path, warmup_iters=1, window_iters=100, time_limit_s=0.0)
    results = hook.results
    assert not results['complete']
    assert results['window']['iters'] == 1
    assert results['window']['requested_iters'] == 100
    assert results['window']['images'] == BATCH
    # the window's epoch (the first) ends, then training stops
    assert runner.epoch == 1


def test_iterations_after_the_window_are_traced(tmp_path):
    # window: iterations 2-4; traced: 5 and 6; the run stops after epoch 2
    runner, hook = _train(
        tmp_path, warmup_iters=2, window_iters=3, profile_iters=2)
    assert hook.results['complete'] and runner.iter == 2 * ITERS_PER_EPOCH
    with gzip.open(tmp_path / 'profile_trace.json.gz', 'rt') as f:
        names = {e.get('name') for e in json.load(f)['traceEvents']}
    assert 'aten::linear' in names or 'aten::addmm' in names
    table = (tmp_path / 'profile_ops.txt').read_text()
    assert table.startswith('2 iterations')
    assert 'self_cpu_time_total' in table
    counters = hook.results['one_time']['compile_cache']
    assert all(isinstance(v, int) for v in counters.values())


def test_trace_cut_short_by_the_end_of_training(tmp_path):
    # window: iterations 2-5 of 8; 2 of the 5 asked are left to trace
    _, hook = _train(
        tmp_path,
        max_epochs=2,
        warmup_iters=2,
        window_iters=4,
        profile_iters=5)
    assert hook.results['complete']
    assert (tmp_path /
            'profile_ops.txt').read_text().startswith('2 iterations')


def test_bad_settings_are_refused():
    for kwargs, message in ((dict(window_iters=0), 'window_iters'),
                            (dict(warmup_iters=-1), 'warmup_iters'),
                            (dict(cycle_sizes=-2), 'cycle_sizes'),
                            (dict(drain_iters=-1), 'drain_iters'),
                            (dict(profile_iters=-1), 'profile_iters')):
        with pytest.raises(ValueError, match=message):
            TrainSpeedMonitorHook(**kwargs)
