"""Every odometry config trains and evaluates on the generated sample."""
import csv
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfusion.utils.config import find_hook
from projects.trimodal_odom.trimodal_odom.converters import (
    build_reg_prior_cache, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.datasets.transforms import \
    odom_scan_registration
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
CONFIG_DIR = osp.join(ROOT, 'configs', 'trimodal_odom')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('kitti_tiny'))
    generate_kitti_sample(root, preset='tiny')
    create_kitti_odom_infos(root)
    return root + '/'


def _retarget(obj, root):
    if isinstance(obj, dict):
        return {k: _retarget(v, root) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_retarget(v, root) for v in obj]
    if isinstance(obj, str):
        for default in ('data/kitti_sample/', 'data/kitti_odometry/',
                        'data/kitti_imu/', 'data/kitti_hard/'):
            obj = obj.replace(default, root)
    return obj


def _shrink(pipeline):
    for t in pipeline:
        if t['type'] == 'LoadOdomImages':
            t['scale'] = (96, 32)
        if t['type'] == 'OdomPointSample':
            t['num_points'] = 128
    return pipeline


def _own_priors(pipeline, root: str, work_dir: str) -> None:
    """Point each ``OdomScanRegistration`` at a cache of its own settings,
    built as the README says (the cache refuses other settings)."""
    for t in pipeline:
        if t['type'] == 'OdomScanRegistration':
            out_dir = osp.join(work_dir, 'reg_priors')
            build_reg_prior_cache(
                root,
                sequences='00',
                out_dir=out_dir,
                **odom_scan_registration.registration_settings(t))
            t['prior_cache'] = out_dir


def tiny_cfg(config: str,
             root: str,
             work_dir: str,
             max_epochs: int = 1,
             train_samples: int = 2) -> Config:
    """The config with its dataloaders on the tiny sample: small images and
    clouds, ``train_samples`` training pairs, 3 val pairs."""
    cfg = Config.fromfile(config)
    for key, n in (('train_dataloader', train_samples), ('val_dataloader', 3),
                   ('test_dataloader', 3)):
        loader = _retarget(cfg[key].to_dict(), root)
        loader['dataset'].pop('backend_args', None)
        loader.update(num_workers=0, persistent_workers=False)
        loader['dataset'].update(sequences='00', indices=n)
        _shrink(loader['dataset']['pipeline'])
        _own_priors(loader['dataset']['pipeline'], root, work_dir)
        cfg[key] = loader
    cfg.train_cfg.max_epochs = max_epochs
    cfg.work_dir = work_dir
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.default_hooks.logger.interval = 1
    cfg.val_evaluator.outfile_prefix = osp.join(work_dir, 'trajectories')
    cfg.randomness = dict(seed=0)
    return cfg


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_trains_and_evaluates(config, tiny_root, tmp_path):
    cfg = tiny_cfg(config, tiny_root, str(tmp_path))
    cfg.load_from = None
    # Checkpointing and plots are tested elsewhere: keep the run short.
    cfg.default_hooks.checkpoint.update(interval=10, save_last=False)
    cfg.val_evaluator.save_plots = False
    runner = Runner.from_cfg(cfg)
    runner.train()
    rows = read_csv(tmp_path / 'metrics.csv')
    assert len(rows) == 1 and float(rows[0]['loss']) > 0
    # The pose heads start from KITTI's mean motion: over the three
    # validation pairs every config stays within 0.2 m of the ground truth
    # (0.002-0.05 m measured); a model predicting no motion (0.96 m off)
    # or NaN fails.
    ate = float(rows[0]['val/kitti/ate'])
    assert 0 <= ate < 0.2
    # a similarity alignment has more freedom than a rigid one
    assert float(rows[0]['val/kitti/ate_sim3']) <= ate + 1e-9
    assert float(rows[0]['val/kitti/constant_velocity/rpe_t']) >= 0
    assert osp.isfile(tmp_path / 'trajectories' / '00_pred.txt')
    # a gated fusion writes its per-frame gates beside the trajectory
    gates = tmp_path / 'trajectories' / '00_gates.txt'
    if cfg.model.fusion.type in ('SoftGateFusion', 'PointGateFusion',
                                 'QualityGateFusion'):
        modalities = open(gates).readline().split()[2:]
        assert modalities == list(runner.model.modalities)
        rows = np.loadtxt(gates, ndmin=2)
        assert rows.shape == (3, 1 + len(modalities))
        assert ((rows[:, 1:] >= 0) & (rows[:, 1:] <= 1)).all()
    else:
        assert not osp.exists(gates)


def test_finetune_from_dummy_reports_loaded_keys(tiny_root, tmp_path):
    dummy = tiny_cfg(
        osp.join(CONFIG_DIR, 'trimodal-odom_dummy-encoders_1xb2-5e_kitti.py'),
        tiny_root, str(tmp_path / 'dummy'))
    Runner.from_cfg(dummy).train()
    ckpt = str(tmp_path / 'dummy' / 'epoch_1.pth')
    cfg = tiny_cfg(
        osp.join(CONFIG_DIR,
                 'trimodal-odom_finetune-from-dummy_1xb2-5e_kitti.py'),
        tiny_root, str(tmp_path / 'finetune'))
    cfg.load_from = ckpt
    cfg.train_cfg.val_interval = 10
    runner = Runner.from_cfg(cfg)
    runner.train()
    with open(tmp_path / 'finetune' / 'load_report.json') as f:
        report = json.load(f)
    dummy_keys = set(torch.load(ckpt, weights_only=False)['state_dict'])
    model_keys = {
        k
        for k in runner.model.state_dict()
        if not k.endswith('num_batches_tracked')
    }
    shared = {k for k in model_keys if not k.startswith('encoders.')}
    assert shared and set(report['loaded']) == shared
    assert set(report['missing']) == model_keys - shared
    assert set(report['unexpected']) == {
        k
        for k in dummy_keys if k.startswith('encoders.')
    }
    assert report['shape_mismatch'] == []
    # The loaded weights are the dummy run's: compare before fine-tuning.
    state = torch.load(ckpt, weights_only=False)['state_dict']
    assert any(k.startswith('pose_head.') for k in report['loaded'])
    assert all(k in state for k in report['loaded'])


def _params(path, prefix):
    state = torch.load(path, weights_only=False)['state_dict']
    return {k: v for k, v in state.items() if k.startswith(prefix)}


@pytest.mark.parametrize('freeze_epochs', [2, 1])
def test_freeze_visual_branch(tiny_root, tmp_path, freeze_epochs):
    cfg = tiny_cfg(
        osp.join(CONFIG_DIR, 'trimodal-odom_freeze-visual_1xb2-5e_kitti.py'),
        tiny_root,
        str(tmp_path),
        max_epochs=2)
    find_hook(cfg.custom_hooks, 'FreezeScheduleHook').freeze_epochs = \
        freeze_epochs
    cfg.train_cfg.val_interval = 10
    # No dropout: parameters change only through gradients.
    cfg.model.fusion.modality_dropout = 0.0
    Runner.from_cfg(cfg).train()
    e1, e2 = (str(tmp_path / f'epoch_{i}.pth') for i in (1, 2))
    vis1, vis2 = _params(e1,
                         'encoders.visual.'), _params(e2, 'encoders.visual.')
    pts1, pts2 = _params(e1, 'encoders.point.'), _params(e2, 'encoders.point.')
    assert not all(torch.equal(pts1[k], pts2[k]) for k in pts1)
    same = all(torch.equal(vis1[k], vis2[k]) for k in vis1)
    # Frozen through epoch 2: bit-identical; unfrozen after epoch 1: moves.
    assert same == (freeze_epochs == 2)
