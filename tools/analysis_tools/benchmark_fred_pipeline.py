# Copyright (c) OpenMMLab. All rights reserved.
"""Throughput of the FRED training pipeline, RGB-only versus dual.

Example::

    python tools/analysis_tools/benchmark_fred_pipeline.py \
        configs/fred_fusion/_base_/datasets/fred_sample.py --num-samples 50

Without ``--data-root`` a 1280x720 sample is generated into a temporary
folder and paired with the converter. Both modalities run the config's
training pipeline (Mosaic, RandomAffine, MixUp, HSV, flip, resize, pad,
pack) in this process with the same seeds; samples/s and the dual / RGB
ratio are printed.
"""
import argparse
import copy
import os.path as osp
import random
import tempfile
import time

import numpy as np
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import projects.fred_fusion.fred_fusion  # noqa: F401
from projects.fred_fusion.fred_fusion.datasets.fred_conversion import (
    convert_split, read_split_file)
from projects.fred_fusion.fred_fusion.datasets.synthetic import \
    generate_fred_sample


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark the FRED training pipeline')
    parser.add_argument('config', help='config with train_dataloader')
    parser.add_argument(
        '--data-root', help='converted FRED root (default: generate one)')
    parser.add_argument('--num-samples', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=(1280, 720),
        help='W H of generated frames')
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


def measure(cfg: Config, root: str, modality: str, args) -> float:
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    inner = ds_cfg.get('dataset', ds_cfg)
    inner.update(data_root=root, modality=modality, use_fusion_info=False)
    dataset = DATASETS.build(ds_cfg)
    random.seed(0)
    np.random.seed(0)
    for i in range(args.warmup):
        dataset[i % len(dataset)]
    start = time.perf_counter()
    for i in range(args.num_samples):
        dataset[i % len(dataset)]
    return args.num_samples / (time.perf_counter() - start)


def main():
    args = parse_args()
    init_default_scope('mmdet')
    cfg = Config.fromfile(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        root = prepare_root(args, tmp)
        rates = {m: measure(cfg, root, m, args) for m in ('rgb', 'dual')}
    print(f'frames {args.img_size[0]}x{args.img_size[1]}, '
          f'{args.num_samples} samples, 1 process')
    for modality, rate in rates.items():
        print(f'{modality:>5}: {rate:.2f} samples/s')
    print(f'dual / rgb: {rates["dual"] / rates["rgb"]:.2f}x')


if __name__ == '__main__':
    main()
