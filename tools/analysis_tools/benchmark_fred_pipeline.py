"""Throughput of the FRED training pipeline, RGB-only versus dual.

Example::

    python tools/analysis_tools/benchmark_fred_pipeline.py \
        configs/fred_fusion/_base_/datasets/fred_sample.py --num-samples 40

Without ``--data-root`` a 1280x720 sample is generated into a temporary
folder and paired with the converter. Its event frames are written like the
released ones (``cv2.imwrite`` defaults: 8-bit RGB PNG, zlib level 1, Sub
filter; re-encoding a real FRED event frame this way reproduces its bytes),
and the decode time of the sample's event frames is printed next to that of
``--ref-event`` (a real frame) to show that they are comparable.

Both modalities run the config's training pipeline (Mosaic, RandomAffine,
MixUp, HSV, flip, resize, pad, pack) in this process, with OpenCV
single-threaded as in the dataloader workers (``opencv_num_threads=0``)
and the same seeds. RGB and dual are measured alternately, ``--repeats``
rounds each; samples/s per round, their range and the dual / RGB ratio per
round are printed, over wall-clock time and over the process's CPU time
(steadier on a machine shared with other jobs).

``--num-workers N`` runs the pipeline the way training does instead: a
``torch.utils.data.DataLoader`` with ``N`` worker processes (mmengine's
``pseudo_collate``, batches of ``--batch-size``), samples/s over wall-clock
time after ``--warmup`` + ``N`` batches (the first wave of batches, which
all workers build at once), to compare with the images/s that a
training step consumes on the same machine.

``--event-cache`` also builds the lossless event cache of the data
(``tools/dataset_converters/fred_event_cache.py``) and measures a third
variant, ``dual-cache`` (dual with ``LoadFREDImages(event_cache=True)``), in
the same rounds; the load time of a cached event frame is printed next to
the PNG decode time.

``--device-config`` measures the device augmentation path as well: the
variant ``dual-device`` is the training dataset of that config (workers
only load one RGB and one event frame at the size training needs; read
from the cache with ``--event-cache``), batched by ``modal_stack_collate``
with ``--num-workers``. The CPU time of each loading step per sample is
printed (and of the RGB decode, event load and event resize inside
``LoadFREDImages``), and the config's batch augmentation
(``DualModalBatchYOLOXAugment``, from
``model.data_preprocessor.raw_batch_augments`` or the dataset file's
``batch_yolox_augment``) is timed on a batch of ``--augment-batch-size``
samples on ``--augment-device``. Example, on a GPU machine::

    python tools/analysis_tools/benchmark_fred_pipeline.py \
        configs/fred_fusion/_base_/datasets/fred_sample.py --event-cache \
        --device-config configs/fred_fusion/_base_/datasets/\
fred_sample_device-aug.py \
        --num-workers 16 --batch-size 64 --num-samples 3072 --warmup 0
"""
import argparse
import copy
import glob
import os.path as osp
import random
import tempfile
import time
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import projects.fred_fusion.fred_fusion.datasets  # noqa: F401
import projects.fred_fusion.fred_fusion.models  # noqa: F401
from projects.fred_fusion.fred_fusion.converters.event_cache_builder import (
    cache_sequence, find_event_frame_dirs)
from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    convert_split, read_split_file)
from projects.fred_fusion.fred_fusion.datasets import modal_stack_collate
from projects.fred_fusion.fred_fusion.datasets.event_cache import (
    cache_paths, load_cache_file)
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REF_EVENT = osp.join(
    osp.dirname(__file__), '..', '..', 'tests', 'data', 'fred', 'real_samples',
    'night_ev.png')
#: Measured variants: name -> (modality, event_cache); ``dual-device``
#: reads the cache with ``--event-cache``.
VARIANTS = {
    'rgb': ('rgb', False),
    'dual': ('dual', False),
    'dual-cache': ('dual', True),
    'dual-device': ('dual', None)
}


def parse_args(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(
        description='Benchmark the FRED training pipeline')
    parser.add_argument('config', help='config with train_dataloader')
    parser.add_argument(
        '--data-root', help='converted FRED root (default: generate one)')
    parser.add_argument('--num-samples', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--repeats', type=int, default=3, help='rounds of rgb and dual')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=(1280, 720),
        help='W H of generated frames')
    parser.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='measure through a DataLoader with this many worker processes '
        '(0: in this process)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=64,
        help='samples per batch with --num-workers')
    parser.add_argument(
        '--ref-event',
        default=REF_EVENT,
        help='real event frame whose decode time is shown for comparison')
    parser.add_argument(
        '--event-cache',
        action='store_true',
        help='build the event cache and also measure dual reading it')
    parser.add_argument(
        '--device-config',
        help='config of the device augmentation path: also measure its '
        'loading (dual-device) and time its batch augmentation')
    parser.add_argument(
        '--augment-device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device of the batch augmentation timing')
    parser.add_argument(
        '--augment-batch-size',
        type=int,
        help='batch of the augmentation timing (default: --batch-size)')
    parser.add_argument(
        '--augment-repeats',
        type=int,
        default=5,
        help='timed runs of the batch augmentation')
    return parser.parse_args(argv)


def prepare_root(args, tmp: str) -> str:
    if args.data_root:
        return args.data_root
    root = osp.join(tmp, 'fred')
    generate_fred_sample(
        root,
        preset='large',
        num_sequences=2,
        num_test=1,
        num_frames=30,
        img_size=tuple(args.img_size))
    seq_ids = read_split_file(
        osp.join(root, 'dataset_splits', 'train_split.txt'))
    convert_split(root, 'train', seq_ids,
                  osp.join(root, 'annotations', 'fred_fusion_train.json'))
    return root


def decode_ms(paths: List[str], repeats: int = 5) -> float:
    """Median CPU time (ms) of ``cv2.imdecode`` over ``paths``."""
    times = []
    for path in paths:
        with open(path, 'rb') as f:
            buf = np.frombuffer(f.read(), np.uint8)
        for _ in range(repeats):
            start = time.process_time()
            cv2.imdecode(buf, cv2.IMREAD_COLOR)
            times.append(time.process_time() - start)
    return float(np.median(times)) * 1e3


def cache_load_ms(paths: List[str], repeats: int = 5) -> float:
    """Median CPU time (ms) of reading and decoding cached frames."""
    times = []
    for path in paths:
        for _ in range(repeats):
            start = time.process_time()
            load_cache_file(path)
            times.append(time.process_time() - start)
    return float(np.median(times)) * 1e3


def build_event_cache(root: str) -> None:
    """Cache the event frames of ``root`` and print the counts."""
    totals = dict(cached=0, not_cacheable=0, failed=0)
    for frames_dir in find_event_frame_dirs(root):
        stats = cache_sequence(frames_dir)
        for key in totals:
            totals[key] += stats[key]
    print(f'event cache: {totals["cached"]} frames cached, '
          f'{totals["not_cacheable"]} not cacheable, '
          f'{totals["failed"]} failed')


def build(cfg: Config, root: str, modality: str, event_cache: bool):
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    inner = ds_cfg.get('dataset', ds_cfg)
    inner.update(data_root=root, modality=modality, use_fusion_info=False)
    for step in inner.pipeline:
        if step['type'] == 'LoadFREDImages':
            step['event_cache'] = event_cache
    return DATASETS.build(ds_cfg)


def measure(dataset, args) -> Tuple[float, float]:
    """Samples/s over wall-clock time and over this process's CPU time."""
    random.seed(0)
    np.random.seed(0)
    for i in range(args.warmup):
        dataset[i % len(dataset)]
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(args.num_samples):
        dataset[i % len(dataset)]
    return (args.num_samples / (time.perf_counter() - wall),
            args.num_samples / (time.process_time() - cpu))


def measure_loader(dataset,
                   args,
                   collate_fn=pseudo_collate) -> Tuple[float, float]:
    """Samples/s of a DataLoader with ``args.num_workers`` processes.

    Every worker builds whole batches, and at the start all of them work
    on their first batch at once, so the first ``num_workers`` batches
    arrive together; they and ``args.warmup`` more are left out of the
    timing (otherwise the batches that piled up during the wait would count
    as free). Then ``args.num_samples`` samples (rounded up to whole
    batches; use several times ``num_workers`` batches) are timed. The
    CPU-time rate is not defined across processes and is returned as NaN.
    """
    batches = -(-args.num_samples // args.batch_size)
    warmup = args.warmup + args.num_workers
    total = (warmup + batches) * args.batch_size
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        sampler=[i % len(dataset) for i in range(total)],
        num_workers=args.num_workers,
        collate_fn=collate_fn,
        worker_init_fn=_seed_worker)
    it = iter(loader)
    for _ in range(warmup):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    elapsed = time.perf_counter() - start
    return batches * args.batch_size / elapsed, float('nan')


def device_stage_ms(dataset,
                    num: int = 20,
                    repeats: int = 3) -> Dict[str, float]:
    """Median CPU ms per sample of each step of a loading pipeline, of the
    parts of ``LoadFREDImages(scale_to)`` and of ``modal_stack_collate``."""
    times = defaultdict(list)

    def timed(name, fn, *args):
        start = time.process_time()
        out = fn(*args)
        times[name].append(time.process_time() - start)
        return out

    samples = []
    for i in range(num):
        for _ in range(repeats):
            results = dataset.get_data_info(i % len(dataset))
            for t in dataset.pipeline.transforms:
                results = timed(type(t).__name__, t, results)
        samples.append(results)
        info = dataset.get_data_info(i % len(dataset))
        load = next(
            t for t in dataset.pipeline.transforms
            if type(t).__name__ == 'LoadFREDImages')
        if load.scale_to is not None:
            _, h, w = results['inputs']['rgb'].shape
            timed(' RGB decode', load._load, info['img_path'],
                  load._reduction(info['width'], info['height']))
            event = timed(' event load', load._load_event, info['event_path'])
            timed(' event resize', load._resize, event, (w, h))
    for _ in range(repeats):
        start = time.process_time()
        modal_stack_collate(samples)
        times['collate'].append((time.process_time() - start) / num)
    return {k: float(np.median(v)) * 1e3 for k, v in times.items()}


def augment_config(cfg: Config) -> dict:
    """The batch augmentation of a device-path config."""
    pre = cfg.get('model', {}).get('data_preprocessor', {})
    augs = pre.get('raw_batch_augments') or [cfg.get('batch_yolox_augment')]
    if augs[0] is None:
        raise ValueError('the device config has neither model.data_'
                         'preprocessor.raw_batch_augments nor '
                         'batch_yolox_augment')
    return copy.deepcopy(augs[0])


def time_augment(cfg: Config, dataset, args) -> List[float]:
    """ms per batch of the config's batch augmentation on a batch of the
    device-path dataset, ``--augment-repeats`` runs after two warm-ups."""
    device = torch.device(args.augment_device)
    augment = MODELS.build(augment_config(cfg)).to(device)
    num = args.augment_batch_size or args.batch_size
    batch = modal_stack_collate(
        [dataset[i % len(dataset)] for i in range(num)])
    inputs = {m: v.to(device) for m, v in batch['inputs'].items()}
    samples = [s.to(device) for s in batch['data_samples']]
    torch.manual_seed(0)
    times = []
    for i in range(2 + args.augment_repeats):
        fresh = copy.deepcopy(samples)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        augment(inputs, fresh)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    return times


def _seed_worker(worker_id: int) -> None:
    random.seed(worker_id)
    np.random.seed(worker_id)
    cv2.setNumThreads(0)


def report(name: str, rates: Dict[str, List[float]]) -> None:
    """Print the samples/s of each round and the ratios to RGB."""
    for variant, values in rates.items():
        per_round = ' '.join(f'{r:.2f}' for r in values)
        print(f'{name} {variant:>10}: {per_round} samples/s '
              f'(range {min(values):.2f}-{max(values):.2f})')
    for variant, values in rates.items():
        if variant == 'rgb':
            continue
        ratios = [d / r for r, d in zip(rates['rgb'], values)]
        per_round = ' '.join(f'{r:.2f}x' for r in ratios)
        print(f'{name} {variant} / rgb per round: {per_round} '
              f'(range {min(ratios):.2f}-{max(ratios):.2f}x, median '
              f'{np.median(ratios):.2f}x)')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    init_default_scope('mmdet')
    # as mmengine's runner sets up the dataloader processes
    cv2.setNumThreads(0)
    cfg = Config.fromfile(args.config)
    device_cfg = (
        Config.fromfile(args.device_config) if args.device_config else None)
    variants = [
        v for v in VARIANTS if (args.event_cache or not VARIANTS[v][1]) and (
            device_cfg is not None or v != 'dual-device')
    ]
    wall: Dict[str, List[float]] = {v: [] for v in variants}
    cpu: Dict[str, List[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        root = prepare_root(args, tmp)
        events = sorted(
            glob.glob(osp.join(root, '*', 'Event', 'Frames', '*.png')))[::5]
        sample_ms = decode_ms(events)
        ref_ms = decode_ms([args.ref_event]) if osp.isfile(
            args.ref_event) else float('nan')
        if args.event_cache:
            build_event_cache(root)
            cached = [cache_paths(p)[1] for p in events]
            cache_ms = cache_load_ms([p for p in cached if osp.isfile(p)])
        datasets = {
            v: build(cfg, root, *VARIANTS[v])
            for v in variants if v != 'dual-device'
        }
        if device_cfg is not None:
            datasets['dual-device'] = build(device_cfg, root, 'dual',
                                            args.event_cache)
            stages = device_stage_ms(datasets['dual-device'])
            augment_ms = time_augment(device_cfg, datasets['dual-device'],
                                      args)
        for _ in range(args.repeats):
            for variant in variants:
                if not args.num_workers:
                    rate, cpu_rate = measure(datasets[variant], args)
                else:
                    rate, cpu_rate = measure_loader(
                        datasets[variant], args, modal_stack_collate
                        if variant == 'dual-device' else pseudo_collate)
                wall[variant].append(rate)
                cpu[variant].append(cpu_rate)
    workers = (f'DataLoader with {args.num_workers} workers, batch '
               f'{args.batch_size}' if args.num_workers else '1 process')
    print(f'frames {args.img_size[0]}x{args.img_size[1]}, '
          f'{args.num_samples} samples x {args.repeats} rounds, {workers}')
    print(f'event png decode (CPU ms): sample {sample_ms:.1f} (median of '
          f'{len(events)} frames), reference {ref_ms:.1f}')
    if args.event_cache:
        print(f'event cache load (CPU ms): {cache_ms:.2f} (median, same '
              'frames)')
    if device_cfg is not None:
        total = sum(v for k, v in stages.items() if not k.startswith(' '))
        print('device path loading, CPU ms per sample (median): ' +
              ', '.join(f'{k.strip()} {v:.2f}'
                        for k, v in stages.items()) + f'; total {total:.2f}')
        num = args.augment_batch_size or args.batch_size
        print(f'device path batch augmentation on {args.augment_device}, '
              f'batch {num}: {np.median(augment_ms):.1f} ms per batch '
              f'(median of {len(augment_ms)}, range {min(augment_ms):.1f}-'
              f'{max(augment_ms):.1f}), {np.median(augment_ms) / num:.2f} '
              'ms per image')
    # CPU time leaves out the waits of a machine shared with other jobs.
    report('wall', wall)
    if not args.num_workers:
        report(' cpu', cpu)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
