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
"""
import argparse
import copy
import glob
import os.path as osp
import random
import tempfile
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import projects.fred_fusion.fred_fusion.datasets  # noqa: F401
from projects.fred_fusion.fred_fusion.converters.event_cache_builder import (
    cache_sequence, find_event_frame_dirs)
from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    convert_split, read_split_file)
from projects.fred_fusion.fred_fusion.datasets.event_cache import (
    cache_paths, load_cache_file)
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REF_EVENT = osp.join(
    osp.dirname(__file__), '..', '..', 'tests', 'data', 'fred', 'real_samples',
    'night_ev.png')
#: Measured variants: name -> (modality, event_cache).
VARIANTS = {
    'rgb': ('rgb', False),
    'dual': ('dual', False),
    'dual-cache': ('dual', True)
}


def parse_args():
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
    return parser.parse_args()


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


def measure_loader(dataset, args) -> Tuple[float, float]:
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
        collate_fn=pseudo_collate,
        worker_init_fn=_seed_worker)
    it = iter(loader)
    for _ in range(warmup):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    elapsed = time.perf_counter() - start
    return batches * args.batch_size / elapsed, float('nan')


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


def main():
    args = parse_args()
    init_default_scope('mmdet')
    # as mmengine's runner sets up the dataloader processes
    cv2.setNumThreads(0)
    cfg = Config.fromfile(args.config)
    variants = [v for v in VARIANTS if args.event_cache or not VARIANTS[v][1]]
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
        datasets = {v: build(cfg, root, *VARIANTS[v]) for v in variants}
        for _ in range(args.repeats):
            for variant in variants:
                rate, cpu_rate = (measure_loader if args.num_workers else
                                  measure)(datasets[variant], args)
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
    # CPU time leaves out the waits of a machine shared with other jobs.
    report('wall', wall)
    if not args.num_workers:
        report(' cpu', cpu)


if __name__ == '__main__':
    main()
