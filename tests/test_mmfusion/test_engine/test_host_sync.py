"""HostSyncCounter, AsyncHostCopy and DeferredRuntimeInfoHook."""
import json
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusion.engine import AsyncHostCopy, HostSyncCounter
from tests.test_mmfusion.toy_modules import toy_config

THIS = osp.basename(__file__)


def test_counter_records_each_read_with_its_line():
    x = torch.arange(6.0) - 2
    with HostSyncCounter() as syncs:
        x.sum().item()
        x.tolist()
        if x.max() > 0:
            pass
        x[x > 0]
        x.nonzero()
        torch.repeat_interleave(torch.tensor([1, 2]), torch.tensor([2, 1]))
        x.add(1).mul(2)  # no read
    ops = [op for op, _ in syncs.records]
    assert ops == [
        'Tensor.item', 'Tensor.tolist', 'Tensor.__bool__',
        'aten.index.Tensor (mask index)', 'aten.nonzero.default',
        'aten.repeat_interleave.Tensor'
    ]
    assert all(THIS in where for _, where in syncs.records)
    assert syncs.total == 6
    assert '6 host synchronisations' in syncs.summary()
    # outside the context nothing is recorded
    x.sum().item()
    assert syncs.total == 6


def test_counter_counts_one_device_type_only():
    with HostSyncCounter('cuda') as syncs:
        torch.ones(3).sum().item()
    assert syncs.total == 0


def test_async_copy_values_and_exempt_reads():
    values = [torch.tensor(1.5), torch.tensor([2], dtype=torch.int64)]
    with HostSyncCounter() as syncs:
        copy = AsyncHostCopy(values)
        assert copy.ready()
        assert copy.get() == [1.5, 2.0]
        assert AsyncHostCopy([torch.tensor(True)]).get() == [True]
    assert syncs.total == 0, syncs.summary()
    with pytest.raises(ValueError, match=r'one-element tensors.*\(3,\)'):
        AsyncHostCopy([torch.ones(3)])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_async_copy_from_the_gpu_does_not_wait():
    x = torch.randn(4096, 4096, device='cuda')
    with HostSyncCounter('cuda') as syncs:
        copy = AsyncHostCopy([(x @ x).sum(), x.max()])
    assert syncs.total == 0
    assert copy.get()[1] == pytest.approx(float(x.max()))


class HubLength(Hook):
    """Length of the hub's ``train/loss`` history after each iteration's
    hooks."""

    priority = 'LOWEST'

    def __init__(self):
        self.lengths = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        buffer = runner.message_hub.log_scalars.get('train/loss')
        self.lengths.append(0 if buffer is None else len(buffer.data[0]))


def _train(runtime_info: str, work_dir, interval: int) -> tuple:
    """Train the toy with the given runtime info hook: the hub's
    ``train/loss`` history after training, the logged losses and the
    history's length after each iteration."""
    cfg = toy_config(work_dir, max_epochs=2)
    cfg.default_hooks.runtime_info = dict(type=runtime_info)
    cfg.default_hooks.logger.interval = interval
    runner = Runner.from_cfg(cfg)
    lengths = HubLength()
    runner.register_hook(lengths)
    runner.train()
    history = runner.message_hub.get_scalar('train/loss').data[0].tolist()
    with open(osp.join(runner.log_dir, 'vis_data', 'scalars.json')) as f:
        lines = [json.loads(line) for line in f]
    logged = [(r['iter'], r['loss'], r['loss_cls']) for r in lines
              if 'lr' in r]
    return history, logged, lengths.lengths


def test_deferred_runtime_info_hook_logs_what_mmengine_logs(tmp_path):
    """Same loss history and the same log lines as mmengine's hook (each
    log line is exact); the iterations between log lines reach the hub
    one iteration late."""
    ref_history, ref_logged, ref_lengths = _train('RuntimeInfoHook',
                                                  tmp_path / 'ref', 3)
    history, logged, lengths = _train('DeferredRuntimeInfoHook',
                                      tmp_path / 'new', 3)
    assert len(history) == 8  # 2 epochs of 4 iterations
    assert history == ref_history
    # logged every 3 iterations of an epoch (mmengine's ignore_last)
    assert [it for it, _, _ in logged] == [3, 7]
    assert logged == ref_logged
    assert ref_lengths == [1, 2, 3, 4, 5, 6, 7, 8]
    # read at once: the logged iterations and the last of each epoch;
    # iterations 1, 2, 5 and 6 arrive at the next one
    assert lengths == [0, 1, 3, 4, 4, 5, 7, 8]
