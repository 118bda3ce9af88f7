"""Time training steps (or inference) of detector configs side by side.

Every config is built in the same process and fed the same synthetic batch
(random images, random boxes), so the ratios between configs are taken on
the same machine in the same run. A training step is what mmengine's
``BaseModel.train_step`` does: data preprocessing, forward, loss, backward
and optimizer step. Timings are taken after warm-up iterations, with the
device synchronised around the timed loop.

Examples::

    # stock single-stream YOLOX-s vs. this project's dual model on one GPU
    python tools/analysis_tools/benchmark_train.py \\
        mmdet::yolox/yolox_s_8xb8-300e_coco.py \\
        configs/fred_fusion/<dual config>.py \\
        --batch-size 64 --img-size 640 --amp --channels-last --out bench.json

    # inference latency, batch 1
    python tools/analysis_tools/benchmark_train.py CFG --mode infer \\
        --batch-size 1
"""
import argparse
import json
import time
from typing import Dict, List, Optional

import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import InstanceData

import mmfusion  # noqa: F401


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--mode', choices=['train', 'infer'], default='train')
    parser.add_argument('--batch-size', type=int, default=8)
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
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every config')
    return parser.parse_args()


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


def benchmark(config: str, args: argparse.Namespace) -> Dict[str, float]:
    """Build one config's model and time it on a synthetic batch."""
    # 'mmdet::yolox/...' names a config shipped with an installed package
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    # a fixed input size: no multi-scale batch augmentation while timing
    cfg.model.data_preprocessor.pop('batch_augments', None)
    model = MODELS.build(cfg.model).to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    height, width = (args.img_size * 2)[:2]
    num_classes = cfg.model.bbox_head.num_classes
    gen = torch.Generator().manual_seed(args.seed)
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
            optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
        optim_wrapper = build_optim_wrapper(model, optim_cfg)

        def step():
            data = model.data_preprocessor(batch, True)
            if args.channels_last:
                data = to_channels_last(data)
            with optim_wrapper.optim_context(model), torch.autocast(
                    device_type, amp_dtype, enabled=args.amp
                    and not use_scaler):
                losses = model._run_forward(data, mode='loss')
                loss, _ = model.parse_losses(losses)
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
    synchronize(args.device)
    if device_type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    synchronize(args.device)
    seconds = (time.perf_counter() - start) / args.iters
    result = dict(
        config=config,
        mode=args.mode,
        batch_size=args.batch_size,
        img_size=[height, width],
        step_s=seconds,
        images_per_s=args.batch_size / seconds,
        peak_mem_gib=(torch.cuda.max_memory_allocated() /
                      2**30 if device_type == 'cuda' else float('nan')))
    return result


def main() -> None:
    args = parse_args()
    results = []
    for config in args.configs:
        results.append(benchmark(config, args))
        if args.device.startswith('cuda'):
            torch.cuda.empty_cache()  # the next config starts clean
    base = results[0]['images_per_s']
    print(f'\n{"config":60s} {"step (s)":>9s} {"img/s":>8s} '
          f'{"x first":>8s} {"peak GiB":>9s}')
    for r in results:
        r['ratio_to_first'] = r['images_per_s'] / base
        print(f'{r["config"][-60:]:60s} {r["step_s"]:9.4f} '
              f'{r["images_per_s"]:8.1f} {r["ratio_to_first"]:8.2f} '
              f'{r["peak_mem_gib"]:9.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    device=(torch.cuda.get_device_name()
                            if args.device.startswith('cuda') else 'cpu'),
                    torch=torch.__version__,
                    settings=dict(
                        amp=args.amp,
                        channels_last=args.channels_last,
                        warmup=args.warmup,
                        iters=args.iters,
                        num_gts=args.num_gts),
                    results=results),
                f,
                indent=2)


if __name__ == '__main__':
    main()
