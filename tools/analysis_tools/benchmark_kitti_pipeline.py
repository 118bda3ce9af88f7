"""Time and memory of the odometry training pipeline, per sample.

Example (a full-size sample: ``generate_kitti_sample.py --preset full``,
converted, with its registration priors cached)::

    python tools/analysis_tools/benchmark_kitti_pipeline.py \
        configs/trimodal_odom/\
trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-sample.py \
        --data-root data/kitti_full --sequences 00 --num-samples 200

Builds ``KittiOdometryDataset`` from the config's ``train_dataloader``
(its pipeline unchanged) on ``--data-root`` and ``--sequences``; the
config's IMU statistics and registration-prior cache are looked up in that
root's info folder. Prints the time and memory it takes to build the
dataset (the info files of every frame), then, over ``--num-samples``
samples after ``--warmup``, in this process with OpenCV single-threaded as
in the dataloader workers: wall-clock and CPU time per sample (median and
90th percentile), the CPU time of each pipeline step (median), where the
registration priors came from, the bytes of a packed sample and the peak
resident memory of the process.
"""
import argparse
import copy
import os.path as osp
import resource
import time
from collections import Counter, defaultdict
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope
from mmengine.utils import import_modules_from_strings


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the odometry training pipeline')
    parser.add_argument('config', help='config with train_dataloader')
    parser.add_argument('--data-root', required=True, help='KITTI root')
    parser.add_argument(
        '--sequences', help='sequences (default: the config\'s)')
    parser.add_argument('--num-samples', type=int, default=100)
    parser.add_argument('--warmup', type=int, default=3)
    return parser.parse_args(argv)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dataset_config(cfg: Config, root: str, sequences: Optional[str]) -> dict:
    """The config's training dataset on ``root``: the IMU statistics and
    the registration priors of its pipeline read from ``root``'s info
    folder."""
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg['data_root'] = root
    if sequences is not None:
        ds_cfg['sequences'] = sequences
    info_root = osp.join(root, ds_cfg.get('info_dir', 'infos'))
    for step in ds_cfg['pipeline']:
        if step['type'] == 'NormalizeOdomIMU':
            step['stats_file'] = osp.join(info_root, 'imu_stats.json')
        if step['type'] == 'OdomScanRegistration' and step.get('prior_cache'):
            step['prior_cache'] = info_root
    return ds_cfg


def packed_bytes(sample: dict) -> int:
    """Bytes of the tensors of a packed sample's ``inputs``."""
    total = 0
    stack = [sample['inputs']]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            total += item.element_size() * item.nelement()
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total


def run_pipeline(dataset, index: int, steps: Dict[str, List[float]]):
    """The sample ``index`` through the pipeline, the CPU time of each
    step appended to ``steps``; returns the packed sample and the raw
    results before packing."""
    results = raw = dataset.get_data_info(index)
    for t in dataset.pipeline.transforms:
        if type(t).__name__ == 'PackOdomInputs':
            raw = results
        start = time.process_time()
        results = t(results)
        steps[type(t).__name__].append(time.process_time() - start)
    return results, raw


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet3d'))
    import_modules_from_strings(**cfg.get('custom_imports', {}))
    cv2.setNumThreads(0)  # as in the dataloader workers
    rss0 = peak_rss_mb()
    start = time.perf_counter()
    dataset = DATASETS.build(
        dataset_config(cfg, args.data_root, args.sequences))
    print(f'dataset: {len(dataset)} samples, built in '
          f'{time.perf_counter() - start:.2f} s, peak RSS {rss0:.0f} -> '
          f'{peak_rss_mb():.0f} MiB')
    steps: Dict[str, List[float]] = defaultdict(list)
    wall, cpu, sources = [], [], Counter()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(dataset))
    num = args.warmup + args.num_samples
    indices = [int(order[i % len(order)]) for i in range(num)]
    np.random.seed(0)
    for n, index in enumerate(indices):
        if n == args.warmup:
            steps.clear()
        w, c = time.perf_counter(), time.process_time()
        sample, raw = run_pipeline(dataset, index, steps)
        if n >= args.warmup:
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
            if 'reg_info' in raw:
                sources[raw['reg_info']['source']] += 1
    wall_ms, cpu_ms = 1e3 * np.array(wall), 1e3 * np.array(cpu)
    print(f'{args.num_samples} samples (after {args.warmup} warm-up), '
          f'1 process: wall {np.median(wall_ms):.1f} ms a sample (p90 '
          f'{np.percentile(wall_ms, 90):.1f}), CPU '
          f'{np.median(cpu_ms):.1f} ms (p90 {np.percentile(cpu_ms, 90):.1f})')
    print('CPU ms a sample per step (median): ' +
          ', '.join(f'{k} {1e3 * np.median(v):.1f}' for k, v in steps.items()))
    if sources:
        print('registration priors: ' +
              ', '.join(f'{n} {k}' for k, n in sorted(sources.items())))
    print(f'packed sample: {packed_bytes(sample) / 2**20:.2f} MiB of '
          f'tensors; peak RSS {peak_rss_mb():.0f} MiB')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
