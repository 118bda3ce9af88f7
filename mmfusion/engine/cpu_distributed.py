"""Data-parallel runs on machines without a GPU.

mmengine's ``init_dist`` pins ``cuda:LOCAL_RANK`` and its ``Runner`` wraps
the model in ``MMDistributedDataParallel(device_ids=[LOCAL_RANK])``; both
need CUDA. On a CPU-only machine a job started by ``torchrun`` (``tools/
dist_train.sh``, ``tools/dist_test.sh``) therefore joins the process group
here, with gloo, and the model is wrapped without device ids. With a GPU
nothing changes.
"""
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel


def init_process_group_without_cuda(backend: str = 'gloo') -> None:
    """Join the process group that ``torchrun`` describes in the
    environment (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``,
    ``WORLD_SIZE``) without touching CUDA. Does nothing if the group
    exists already."""
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend=backend)


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepare ``cfg`` and the process group for a distributed run on CPU.

    Call it before building the ``Runner``. It does nothing unless
    ``cfg.launcher`` is not ``'none'`` and CUDA is unavailable. Then the
    backend is gloo (a configured ``nccl``, which needs GPUs, is replaced
    and the change logged), the group is joined, and the model wrapper
    gets ``device_ids=None`` as DDP requires for CPU modules (wrappers
    derived from ``DistributedDataParallel``; others are left as they
    are).

    Raises:
        ValueError: For a launcher other than ``pytorch`` (slurm and mpi
            are only supported with GPUs).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} needs GPUs; without CUDA '
                         'only "pytorch" (torchrun) is supported')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend', 'gloo')
    if backend == 'nccl':
        print_log(
            'no CUDA device: the distributed backend is gloo instead of '
            'the configured nccl',
            logger='current')
        backend = 'gloo'
    dist_cfg['backend'] = backend
    init_process_group_without_cuda(backend)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_type = MODEL_WRAPPERS.get(
        wrapper.get('type', 'MMDistributedDataParallel'))
    if isinstance(wrapper_type, type) and issubclass(wrapper_type,
                                                     DistributedDataParallel):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
