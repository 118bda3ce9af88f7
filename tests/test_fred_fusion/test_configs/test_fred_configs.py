"""Every FRED config trains and evaluates on the tiny generated sample.

The model is shrunk (tiny widths) and a run is one training batch and one
validation batch, so that the real Runner, datasets, pipelines, hooks,
metric and checkpointing of each config run in seconds.
"""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'fred_fusion', '*.py')))
WIDEN = 0.125
SCALE = 160  # network input side for the tests (the configs use 640)


def shrink_pipeline(pipeline: list) -> None:
    """Scale the geometric transforms of a pipeline to SCALE pixels."""
    for t in pipeline:
        t = t.get('transform', t)
        if 'img_scale' in t:
            t['img_scale'] = (SCALE, SCALE)
        if 'scale' in t:
            t['scale'] = (SCALE, SCALE)
        if 'border' in t:
            t['border'] = (-SCALE // 2, -SCALE // 2)
        if 'scale_to' in t:
            t['scale_to'] = (SCALE, SCALE)


def load_config(config: str) -> Config:
    """The config, without yapf-formatting its text: that (log, dump, every
    checkpoint) would dominate the run time, and Config.fromfile does not
    pass the switch on."""
    return Config(
        Config.fromfile(config).to_dict(),
        filename=config,
        format_python_code=False)


def shrink(cfg: Config,
           root: str,
           work_dir: str,
           coco_checkpoint: str = None) -> Config:
    """Tiny model, tiny sample, one batch of training and validation; a
    local checkpoint (of the tiny widths) in place of a model-zoo URL."""
    cfg.work_dir = work_dir
    # a unique visualizer: mmengine reuses instances by name
    cfg.visualizer.name = f'vis_{osp.basename(work_dir)}'
    model = cfg.model
    model.backbone.widen_factor = WIDEN
    channels = [int(c * WIDEN) for c in (256, 512, 1024)]
    if is_stock(cfg):
        model.neck.in_channels = channels
    else:
        model.fusion_neck.in_channels = channels
    model.neck.out_channels = 16
    model.bbox_head.in_channels = model.bbox_head.feat_channels = 16
    if model.get('pair_discriminator'):
        model.pair_discriminator.in_channels = int(1024 * WIDEN)
    for aug in model.data_preprocessor.get('raw_batch_augments') or []:
        shrink_pipeline(aug.transforms)
    init_cfg = model.get('init_cfg')
    if init_cfg and init_cfg['type'] == 'StreamPretrained':
        init_cfg.checkpoint = coco_checkpoint
    if 'demo' in osp.basename(cfg.filename):
        # keep every box: the COCO evaluation runs on real detections
        model.test_cfg.score_thr = 0.0
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    train_set = cfg.train_dataloader.dataset
    shrink_pipeline(train_set.pipeline)
    if 'dataset' in train_set:
        train_set = train_set.dataset
    train_set.data_root = root
    cfg.train_dataloader.update(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        num_batch_per_epoch=1)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = root
        shrink_pipeline(loader.dataset.pipeline)
        loader.update(
            batch_size=2,
            num_workers=0,
            persistent_workers=False,
            num_batch_per_epoch=1)
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'FreezeScheduleHook':
            hook['freeze_batch_size'] = hook['unfreeze_batch_size'] = 2
    return cfg


def is_stock(cfg: Config) -> bool:
    """mmdet's own YOLOX (the stock baseline), not this project's model."""
    return cfg.model.type == 'YOLOX'


def read_scalars(work_dir: str) -> list:
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, files
    with open(files[0]) as f:
        return [json.loads(line) for line in f]


def test_every_config_is_tested():
    names = [osp.basename(c) for c in CONFIGS]
    assert 'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py' in names
    assert 'yolox_s_dual-concat_coco-pretrained_1xb8-300e_fred.py' in names
    assert len(names) >= 20


def letterbox(pipeline: list) -> list:
    """The resize and pad steps of a pipeline (wrapped in SyncTransform
    or not)."""
    steps = [t.get('transform', t) for t in pipeline]
    return [{
        k: v
        for k, v in t.items() if k != '_scope_'
    } for t in steps if t['type'] in ('Resize', 'Pad')]


def train_letterbox(cfg: Config) -> list:
    """The resize and pad steps of training: those of the train pipeline,
    or of the augmentations in the data preprocessor (device path)."""
    augments = cfg.model.data_preprocessor.get('raw_batch_augments') or []
    if augments:
        return letterbox([t for a in augments for t in a['transforms']])
    return letterbox(cfg.train_dataloader.dataset.pipeline)


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_train_val_and_test_letterbox_alike(config):
    """Training (once the mosaic epochs are over), validation and testing
    (and so tools/misc/predict_fred.py) resize and pad frames the same
    way."""
    cfg = Config.fromfile(config)
    test = letterbox(cfg.test_dataloader.dataset.pipeline)
    assert [t['type'] for t in test] == ['Resize', 'Pad']
    assert test[0]['keep_ratio']
    assert train_letterbox(cfg) == test
    assert letterbox(cfg.val_dataloader.dataset.pipeline) == test


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_trains_and_evaluates(config, fred_tiny_root, coco_checkpoint,
                                     tmp_path):
    cfg = shrink(
        load_config(config), fred_tiny_root, str(tmp_path), coco_checkpoint)
    runner = Runner.from_cfg(cfg)
    runner.train()
    if cfg.model.get('init_cfg'):
        # started from the checkpoint; the frozen backbones still hold it
        source = torch.load(coco_checkpoint, weights_only=False)['state_dict']
        state = runner.model.state_dict()
        for key in ('stem.conv.conv.weight',
                    'stage4.2.blocks.0.conv2.bn.running_var'):
            for stream in cfg.model.modalities:
                assert torch.equal(state[f'backbones.{stream}.{key}'],
                                   source[f'backbone.{key}'])

    assert osp.isfile(tmp_path / 'epoch_1.pth')
    scalars = read_scalars(str(tmp_path))
    train = [s for s in scalars if 'lr' in s]
    val = [s for s in scalars if 'coco/bbox_mAP' in s]
    assert train and 'loss_bbox' in train[-1]
    assert len(val) == 1
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75',
                'coco/DJI Mini 2_precision'):
        assert key in val[0], key
    assert 0.0 <= val[0]['coco/bbox_mAP_50'] <= 1.0
    if is_stock(cfg):
        # mmdet's hooks only: no best checkpoint, validation loss, curves
        return
    assert osp.isfile(tmp_path / 'best_coco_bbox_mAP_epoch_1.pth')
    assert 'loss' in val[0] and 'val_loss' in val[0]  # validation loss
    # curves, per-epoch CSV and pairing statistics
    for name in ('epoch_loss.png', 'val_loss.png', 'lr.png', 'metrics.csv',
                 'fusion_stats.csv'):
        assert osp.isfile(tmp_path / name), name
    if cfg.model.get('pair_discriminator'):
        assert 'pair_acc' in train[-1] or 'loss_pair' in train[-1]
