"""The device augmentation path gives the boxes the CPU path gives.

The CPU train pipeline of ``fred_sample.py`` (mmdet's Mosaic,
RandomAffine, MixUp, ..., through ``MultiModalMixDataset``) and the device
path of ``fred_sample_device-aug.py`` (``LoadFREDImages(scale_to)``,
``modal_stack_collate``, ``DualModalBatchYOLOXAugment`` on CPU tensors)
run on the generated tiny sample at a 160 px network input; over
``NUM_IMAGES`` augmented images each, the distributions of box scale
(sqrt of the area), box centre x and y, and boxes per image must match.

Tolerances, from runs of this comparison with other seeds (CPU vs device,
and CPU vs CPU, 800 images each): the two-sample Kolmogorov-Smirnov
statistic was at most 0.043 for the continuous statistics and 0.058 for the
box counts, and the difference of the means at most 2.9 standard errors.
The bounds are 0.06, 0.08 and 4 standard errors. With 1200 images, an
affine ``scaling_ratio_range`` of (0.5, 1.5) instead of (0.1, 2) fails every
bound by far; a fixed Mosaic centre (ratio 1) or a centre range of
(0.75, 1.25) instead of (0.5, 1.5) fails the mean of y (checked locally by
changing the config).
"""
import copy
import random

import numpy as np
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.stats import ks_2samp

from projects.fred_fusion.fred_fusion import register_all_modules
from projects.fred_fusion.fred_fusion.datasets import modal_stack_collate
from tests.test_fred_fusion.test_configs.test_fred_configs import (
    REPO, SCALE, shrink_pipeline)

DATASETS_DIR = f'{REPO}/configs/fred_fusion/_base_/datasets'
NUM_IMAGES = 1200
BATCH = 16


def box_stats(data_samples) -> dict:
    """Box scale, centre x / y (one value per box) and boxes per image."""
    boxes = []
    for ds in data_samples:
        b = ds.gt_instances.bboxes
        boxes.append(getattr(b, 'tensor', b).numpy().reshape(-1, 4))
    counts = np.array([len(b) for b in boxes])
    b = np.concatenate(boxes)
    return dict(
        scale=np.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])),
        x=(b[:, 0] + b[:, 2]) / 2,
        y=(b[:, 1] + b[:, 3]) / 2,
        count=counts)


def cpu_path(root: str, seed: int) -> dict:
    cfg = Config.fromfile(f'{DATASETS_DIR}/fred_sample.py')
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset.dataset.data_root = root
    shrink_pipeline(dataset.pipeline)
    dataset = DATASETS.build(dataset)
    random.seed(seed)
    np.random.seed(seed)
    order = np.random.RandomState(seed).randint(0, len(dataset), NUM_IMAGES)
    return box_stats([dataset[int(i)]['data_samples'] for i in order])


def device_path(root: str, seed: int) -> dict:
    cfg = Config.fromfile(f'{DATASETS_DIR}/fred_sample_device-aug.py')
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset.data_root = root
    shrink_pipeline(dataset.pipeline)
    dataset = DATASETS.build(dataset)
    augment = copy.deepcopy(cfg.batch_yolox_augment)
    shrink_pipeline(augment.transforms)
    augment = MODELS.build(augment)
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    samples = []
    for _ in range(NUM_IMAGES // BATCH):
        batch = modal_stack_collate(
            [dataset[int(i)] for i in rng.permutation(len(dataset))[:BATCH]])
        inputs, out = augment(batch['inputs'], batch['data_samples'])
        assert inputs['rgb'].shape[-2:] == (SCALE, SCALE)
        samples += out
    return box_stats(samples)


def test_box_distributions_match_the_cpu_pipeline(fred_tiny_root):
    register_all_modules()
    init_default_scope('mmdet')
    cpu = cpu_path(fred_tiny_root, seed=0)
    device = device_path(fred_tiny_root, seed=0)
    assert len(device['count']) == len(cpu['count']) == NUM_IMAGES
    for key in ('scale', 'x', 'y', 'count'):
        a, b = cpu[key], device[key]
        ks = ks_2samp(a, b).statistic
        z = (a.mean() - b.mean()) / np.sqrt(a.var() / len(a) +
                                            b.var() / len(b))
        bound = 0.08 if key == 'count' else 0.06
        assert ks <= bound, (key, ks)
        assert abs(z) <= 4, (key, a.mean(), b.mean(), z)
