"""The training iterations of the device-path configs never wait for the
device: no operation in them reads a device value on the host.

The real Runner trains the configs (shrunk as in test_fred_configs.py)
with :class:`~mmfusion.engine.HostSyncAuditHook` over a few iterations
after the first ones: data preprocessor (batch augmentation, multi-scale
resize), forward, loss, backward, optimizer step, EMA and every hook. On
the CPU the same code makes the same reads as on a GPU, where each one
would stop the host from queueing work ahead of the GPU.
"""
import os.path as osp

import pytest
from mmengine.runner import Runner

from .test_fred_configs import REPO, load_config, shrink

DEVICE_CONFIGS = [
    'yolox_s_dual-concat_1xb8-300e_device-aug_fred.py',
    'yolox_w0125_dual-concat_1xb8-demo_device-aug_fred-sample.py'
]


def _audited(config: str, root: str, work_dir: str, freeze: bool):
    cfg = shrink(
        load_config(osp.join(REPO, 'configs', 'fred_fusion', config)), root,
        work_dir)
    # 6 iterations: the audited ones (3-5) are not logged (the last is)
    cfg.train_dataloader.num_batch_per_epoch = 6
    cfg.train_cfg.update(max_epochs=1, val_interval=10)
    hooks = []
    for hook in cfg.get('custom_hooks', []):
        if not freeze:
            # the end-to-end benchmark's setting: everything trains, with
            # Mosaic and MixUp (the mode switch of the last epochs would
            # turn them off in this one-epoch run)
            if hook['type'] == 'FreezeScheduleHook':
                hook['freeze_epochs'] = 0
            elif hook['type'] == 'DualModalYOLOXModeSwitchHook':
                continue
        hooks.append(hook)
    cfg.custom_hooks = hooks + [
        dict(type='HostSyncAuditHook', begin=2, iters=3)
    ]
    return cfg


# 'train': everything trains, Mosaic and MixUp on; 'frozen': the freeze
# stage, and the last epochs' mode (no Mosaic / MixUp, L1 loss)
@pytest.mark.parametrize('freeze', [False, True], ids=['train', 'frozen'])
@pytest.mark.parametrize('config', DEVICE_CONFIGS)
def test_device_path_iterations_make_no_host_sync(config, freeze,
                                                  fred_tiny_root, tmp_path):
    if freeze and 'demo' in config:
        pytest.skip('the demo has no freeze stage')
    runner = Runner.from_cfg(
        _audited(config, fred_tiny_root, str(tmp_path), freeze))
    runner.train()
    audit = next(
        h for h in runner.hooks if type(h).__name__ == 'HostSyncAuditHook')
    assert audit.result is not None
    assert audit.result['iters'] == 3
    assert audit.result['total'] == 0, audit.result['by_caller']
    assert osp.isfile(tmp_path / 'host_syncs.json')
    # the deferred logging still delivered every iteration's losses
    history = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(history) == 6


def test_cpu_path_iterations_are_audited(fred_tiny_root, tmp_path):
    """The audit finds the reads where there are some: the CPU-path dual
    config logs its losses with mmengine's RuntimeInfoHook (``.item()`` of
    each in the message hub) and checks the loss on the host before the
    backward pass. (Its pipeline runs in this process here, with
    ``num_workers=0``, and its reads of CPU tensors are counted too.)"""
    runner = Runner.from_cfg(
        _audited('yolox_s_dual-concat_1xb8-300e_fred.py', fred_tiny_root,
                 str(tmp_path), False))
    runner.train()
    audit = next(
        h for h in runner.hooks if type(h).__name__ == 'HostSyncAuditHook')
    callers = '\n'.join(audit.result['by_caller'])
    assert audit.result['total'] >= 3 * 4, callers
    assert 'message_hub.py' in callers
    assert 'finite_optim_wrapper.py' in callers
