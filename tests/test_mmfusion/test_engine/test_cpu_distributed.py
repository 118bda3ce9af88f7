"""``setup_cpu_distributed`` prepares torchrun jobs on a machine without
GPUs (the two-process run itself: tests/test_fred_fusion/test_configs/
test_dist_test.py). The CPU cases run in a fresh interpreter that sees no
GPU, so that they also run (and do not skip) on a machine with GPUs."""
import json
import subprocess
import sys
import textwrap

import torch.distributed as torch_dist
from mmengine.config import Config

from mmfusion.engine import setup_cpu_distributed
from tests.test_mmfusion.toy_modules import cpu_only_env, free_port


def run_without_gpus(code: str, **env) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh
    interpreter with no GPU visible and ``env`` set."""
    proc = subprocess.run([sys.executable, '-c',
                           textwrap.dedent(code)],
                          env=cpu_only_env(**env),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_no_launcher_changes_nothing():
    cfg = Config(
        dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg
    assert not torch_dist.is_initialized()


def test_slurm_without_cuda_is_refused():
    result = run_without_gpus('''
        import json
        from mmengine.config import Config
        from mmfusion.engine import setup_cpu_distributed
        try:
            setup_cpu_distributed(Config(dict(launcher='slurm')))
            print(json.dumps(dict(error=None)))
        except ValueError as e:
            print(json.dumps(dict(error=str(e))))
        ''')
    assert result['error'].startswith("launcher 'slurm' needs GPUs")


def test_torchrun_without_cuda_uses_gloo():
    result = run_without_gpus(
        '''
        import json
        import torch
        import torch.distributed as torch_dist
        from mmengine.config import Config
        from mmfusion.engine import setup_cpu_distributed
        cfg = Config(
            dict(
                launcher='pytorch',
                find_unused_parameters=True,
                env_cfg=dict(dist_cfg=dict(backend='nccl'))))
        setup_cpu_distributed(cfg)
        result = dict(
            cuda=torch.cuda.is_available(),
            initialized=torch_dist.is_initialized(),
            backend=torch_dist.get_backend())
        # a second call (e.g. the runner's own set-up) keeps the group
        setup_cpu_distributed(cfg)
        torch_dist.destroy_process_group()
        result.update(
            cfg_backend=cfg.env_cfg.dist_cfg.backend,
            wrapper=cfg.model_wrapper_cfg.to_dict())
        print(json.dumps(result))
        ''',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
        RANK='0',
        WORLD_SIZE='1')
    assert result == dict(
        cuda=False,
        initialized=True,
        backend='gloo',
        cfg_backend='gloo',
        wrapper=dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=True,
            device_ids=None))
