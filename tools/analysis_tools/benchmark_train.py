"""Time training steps (or inference) of detector configs side by side.

Every config is built in the same process and fed the same synthetic batch
(random images, random boxes), so the ratios between configs are taken on
the same machine in the same run. A training step is what mmengine's
``BaseModel.train_step`` does: data preprocessing, forward, loss, backward
and optimizer step. Timings are taken after warm-up iterations, with the
device synchronised around the timed loop. cuDNN's autotuner is on or off
as each config's ``env_cfg.cudnn_benchmark`` says (as the ``Runner`` sets
it; recorded in the results).

With ``--launcher pytorch`` the script runs as one process per GPU under
``torchrun``: every rank builds the model, wraps it in mmengine's
``MMDistributedDataParallel`` (as mmengine's ``Runner`` does) and times
``train_step`` (preprocessing, forward, loss, backward with the gradient
all-reduce, optimizer step) on its own synthetic batch. ``--batch-size`` is
per GPU; ``step_s`` is the slowest rank's and ``images_per_s`` counts the
images of all ranks. Only training is timed in this mode.

Examples::

    # stock single-stream YOLOX-s vs. this project's dual model on one GPU
    python tools/analysis_tools/benchmark_train.py \\
        mmdet::yolox/yolox_s_8xb8-300e_coco.py \\
        configs/fred_fusion/<dual config>.py \\
        --batch-size 64 --img-size 640 --amp --channels-last --out bench.json

    # inference latency, batch 1
    python tools/analysis_tools/benchmark_train.py CFG --mode infer \\
        --batch-size 1

    # data-parallel training on 2 GPUs, batch 32 per GPU
    torchrun --nproc_per_node=2 tools/analysis_tools/benchmark_train.py \\
        CFG --batch-size 32 --img-size 640 --amp --out bench_2gpu.json \\
        --launcher pytorch

    # the same on 1 GPU (same code path, DDP over one process); the
    # scaling ratio is images_per_s of the 2-GPU run / that of this one
    # (the img/s columns; 2.0 is linear scaling)
    torchrun --nproc_per_node=1 tools/analysis_tools/benchmark_train.py \\
        CFG --batch-size 32 --img-size 640 --amp --out bench_1gpu.json \\
        --launcher pytorch
"""
import argparse
import contextlib
import json
import math
import os
import time
from typing import Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmdet.structures import DetDataSample
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist
from mmengine.hub import get_config
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import InstanceData

from mmfusion.engine import amp_optim_wrapper, init_process_group_without_cuda


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--mode',
        choices=['train', 'infer'],
        default='train',
        help='infer is not supported with --launcher pytorch')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='images per GPU (process)')
    parser.add_argument(
        '--img-size', type=int, nargs='+', default=[640], help='H [W]')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument(
        '--num-gts', type=int, default=8, help='boxes per image')
    parser.add_argument(
        '--amp', action='store_true', help='fp16 autocast (bf16 on CPU)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='with --launcher pytorch, "cuda" means cuda:LOCAL_RANK')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the synthetic batch (seed + rank on each rank)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every config')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch'],
        default='none',
        help='pytorch: one process per GPU under torchrun, data-parallel '
        'training (MMDistributedDataParallel); training mode only')
    parser.add_argument(
        '--backend',
        help='torch.distributed backend for --launcher pytorch; defaults '
        'to nccl on CUDA and gloo on CPU')
    args = parser.parse_args()
    if args.launcher != 'none' and args.mode != 'train':
        parser.error('--mode infer is not supported with --launcher '
                     f'{args.launcher}: run it in a single process '
                     '(--launcher none)')
    if args.backend is None:
        args.backend = 'nccl' if args.device.startswith('cuda') else 'gloo'
    return args


def setup_distributed(args: argparse.Namespace) -> None:
    """Join the process group started by torchrun and pick this rank's
    device (``cuda:LOCAL_RANK`` on GPUs)."""
    if torch.cuda.is_available():
        init_dist(args.launcher, backend=args.backend)
    else:
        init_process_group_without_cuda(args.backend)
    if args.device.startswith('cuda'):
        args.device = f'cuda:{os.environ["LOCAL_RANK"]}'
        torch.cuda.set_device(args.device)


def wrap_ddp(model: torch.nn.Module, cfg: Config,
             device: str) -> MMDistributedDataParallel:
    """Wrap ``model`` for data-parallel training as mmengine's ``Runner``
    does by default."""
    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        find_unused_parameters = cfg.get('find_unused_parameters', False)
    else:
        find_unused_parameters = wrapper_cfg.get('find_unused_parameters',
                                                 False)
    return MMDistributedDataParallel(
        module=model,
        device_ids=[torch.device(device).index]
        if device.startswith('cuda') else None,
        broadcast_buffers=False,
        find_unused_parameters=find_unused_parameters)


def modalities_of(cfg: Config) -> Optional[List[str]]:
    """Names of the input streams, or None for a single-tensor model."""
    modalities = cfg.model.get('modalities')
    return list(modalities) if modalities else None


def synthetic_batch(cfg: Config, batch_size: int, height: int, width: int,
                    num_gts: int, num_classes: int,
                    gen: torch.Generator) -> dict:
    """A collated batch as a dataloader of this config would give it.

    Returns:
        dict: ``inputs`` (list of uint8 (3, H, W) tensors, or of dicts of
        them per modality) and ``data_samples`` with ``num_gts`` random
        boxes each.
    """
    modalities = modalities_of(cfg)
    samples = []
    for _ in range(batch_size):
        if modalities is None:
            inputs = torch.randint(
                0, 256, (3, height, width), dtype=torch.uint8, generator=gen)
        else:
            inputs = {
                m:
                torch.randint(
                    0,
                    256, (3, height, width),
                    dtype=torch.uint8,
                    generator=gen)
                for m in modalities
            }
        xy = torch.rand(
            num_gts, 2, generator=gen) * torch.tensor(
                [width * 0.8, height * 0.8])
        wh = 8 + torch.rand(
            num_gts, 2, generator=gen) * torch.tensor(
                [width * 0.2, height * 0.2])
        data_sample = DetDataSample(
            metainfo=dict(
                img_shape=(height, width),
                ori_shape=(height, width),
                pad_shape=(height, width),
                scale_factor=(1.0, 1.0)))
        data_sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], dim=1),
            labels=torch.randint(0, num_classes, (num_gts, ), generator=gen))
        samples.append(dict(inputs=inputs, data_samples=data_sample))
    return pseudo_collate(samples)


def to_channels_last(data):
    """Convert every 4-D tensor in a (nested) batch to channels_last."""
    if isinstance(data, torch.Tensor):
        return data.contiguous(memory_format=torch.channels_last) \
            if data.dim() == 4 else data
    if isinstance(data, dict):
        return {k: to_channels_last(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(to_channels_last(v) for v in data)
    return data


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def wait_for_all(device: str) -> None:
    """Finish the queued device work, then line up all ranks (the barrier
    does nothing in a single process)."""
    synchronize(device)
    barrier()
    synchronize(device)


def benchmark(config: str, args: argparse.Namespace) -> Dict[str, float]:
    """Build one config's model and time it on a synthetic batch.

    Under a launcher every rank calls this; the returned record (step time
    of the slowest rank, images per second of all ranks together, largest
    peak memory) is the same on every rank.
    """
    rank, world_size = get_dist_info()
    # 'mmdet::yolox/...' names a config shipped with an installed package
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    # as the Runner's setup_env: the config decides cuDNN's autotuner
    cudnn_benchmark = bool(
        cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    torch.backends.cudnn.benchmark = cudnn_benchmark
    # a fixed input size: no multi-scale batch augmentation while timing
    cfg.model.data_preprocessor.pop('batch_augments', None)
    model = MODELS.build(cfg.model).to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    height, width = (args.img_size * 2)[:2]
    num_classes = cfg.model.bbox_head.num_classes
    gen = torch.Generator().manual_seed(args.seed + rank)
    batch = synthetic_batch(cfg, args.batch_size, height, width, args.num_gts,
                            num_classes, gen)
    amp_dtype = torch.float16 if args.device.startswith('cuda') \
        else torch.bfloat16
    device_type = 'cuda' if args.device.startswith('cuda') else 'cpu'

    if args.mode == 'train':
        model.train()
        optim_cfg = cfg.optim_wrapper.copy()
        use_scaler = args.amp and device_type == 'cuda'
        if use_scaler:  # as tools/train.py --amp: fp16 with loss scaling
            optim_cfg = amp_optim_wrapper(optim_cfg)
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        cpu_autocast = args.amp and not use_scaler

        def autocast():
            # AmpOptimWrapper.optim_context already autocasts to fp16; an
            # inner ``torch.autocast(enabled=False)`` would switch that off
            # and run the step in fp32, so no context unless it is needed.
            return torch.autocast(device_type, amp_dtype) \
                if cpu_autocast else contextlib.nullcontext()

        if args.launcher == 'none':

            def step():
                data = model.data_preprocessor(batch, True)
                if args.channels_last:
                    data = to_channels_last(data)
                with optim_wrapper.optim_context(model), autocast():
                    losses = model._run_forward(data, mode='loss')
                    loss, _ = model.parse_losses(losses)
                optim_wrapper.update_params(loss)
        else:
            ddp = wrap_ddp(model, cfg, args.device)
            if not (args.channels_last or cpu_autocast):

                def step():
                    ddp.train_step(batch, optim_wrapper)
            else:

                def step():
                    # MMDistributedDataParallel.train_step with the
                    # channels_last conversion and CPU autocast above
                    with optim_wrapper.optim_context(ddp):
                        data = ddp.module.data_preprocessor(batch, True)
                        if args.channels_last:
                            data = to_channels_last(data)
                        with autocast():
                            losses = ddp._run_forward(data, mode='loss')
                    loss, _ = ddp.module.parse_losses(losses)
                    optim_wrapper.update_params(loss)
    else:
        model.eval()

        @torch.no_grad()
        def step():
            data = model.data_preprocessor(batch, False)
            if args.channels_last:
                data = to_channels_last(data)
            with torch.autocast(device_type, amp_dtype, enabled=args.amp):
                model._run_forward(data, mode='predict')

    for _ in range(args.warmup):
        step()
    wait_for_all(args.device)
    if device_type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    wait_for_all(args.device)
    seconds = (time.perf_counter() - start) / args.iters
    peak_mem = (
        torch.cuda.max_memory_allocated() /
        2**30 if device_type == 'cuda' else float('nan'))
    per_rank = all_gather_object((seconds, peak_mem))
    seconds = max(s for s, _ in per_rank)
    peak_mems = [m for _, m in per_rank if not math.isnan(m)]
    result = dict(
        config=config,
        mode=args.mode,
        world_size=world_size,
        batch_size=args.batch_size,
        img_size=[height, width],
        step_s=seconds,
        images_per_s=world_size * args.batch_size / seconds,
        peak_mem_gib=max(peak_mems) if peak_mems else float('nan'),
        cudnn_benchmark=cudnn_benchmark)
    return result


def main() -> None:
    args = parse_args()
    if args.launcher != 'none':
        setup_distributed(args)
    rank, world_size = get_dist_info()
    results = []
    for config in args.configs:
        results.append(benchmark(config, args))
        if args.device.startswith('cuda'):
            torch.cuda.empty_cache()  # the next config starts clean
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
    if rank != 0:
        return
    base = results[0]['images_per_s']
    print(f'\n{"config":60s} {"world":>5s} {"step (s)":>9s} {"img/s":>8s} '
          f'{"x first":>8s} {"peak GiB":>9s}')
    for r in results:
        r['ratio_to_first'] = r['images_per_s'] / base
        print(f'{r["config"][-60:]:60s} {r["world_size"]:5d} '
              f'{r["step_s"]:9.4f} {r["images_per_s"]:8.1f} '
              f'{r["ratio_to_first"]:8.2f} {r["peak_mem_gib"]:9.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    device=(torch.cuda.get_device_name()
                            if args.device.startswith('cuda') else 'cpu'),
                    torch=torch.__version__,
                    world_size=world_size,
                    settings=dict(
                        amp=args.amp,
                        channels_last=args.channels_last,
                        warmup=args.warmup,
                        iters=args.iters,
                        num_gts=args.num_gts,
                        launcher=args.launcher),
                    results=results),
                f,
                indent=2)


if __name__ == '__main__':
    main()
