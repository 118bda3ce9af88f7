"""``setup_cpu_distributed`` prepares torchrun jobs on a machine without
GPUs (the two-process run itself: tests/test_fred_fusion/test_configs/
test_dist_test.py)."""
import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmfusion.engine import setup_cpu_distributed
from tests.test_mmfusion.toy_modules import free_port

needs_cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='the CPU path is taken without CUDA')


def test_no_launcher_changes_nothing():
    cfg = Config(
        dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg
    assert not torch_dist.is_initialized()


@needs_cpu_only
def test_slurm_without_cuda_is_refused():
    with pytest.raises(ValueError, match="launcher 'slurm' needs GPUs"):
        setup_cpu_distributed(Config(dict(launcher='slurm')))


@needs_cpu_only
def test_torchrun_without_cuda_uses_gloo(monkeypatch):
    for key, value in dict(
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(free_port()),
            RANK='0',
            WORLD_SIZE='1').items():
        monkeypatch.setenv(key, value)
    cfg = Config(
        dict(
            launcher='pytorch',
            find_unused_parameters=True,
            env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        setup_cpu_distributed(cfg)
        assert torch_dist.is_initialized()
        assert torch_dist.get_backend() == 'gloo'
        # a second call (e.g. the runner's own set-up) keeps the group
        setup_cpu_distributed(cfg)
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True,
        device_ids=None)
