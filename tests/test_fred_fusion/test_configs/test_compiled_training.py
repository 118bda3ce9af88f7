"""``model.compile_network`` trains through the real Runner: multi-scale
size changes, the freeze -> unfreeze switch, EMA, validation and resume.

The compiled modules run on dynamo with the ``aot_eager`` backend (the
graphs inductor would get, with eager kernels): inductor's C++ compilation
of even the tiny model takes minutes on a 2-core CPU. Set
``MMFUSION_COMPILE_TEST_BACKEND=inductor`` to run the same test with
inductor (e.g. on a GPU machine).
"""
import glob
import json
import math
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfusion.engine import get_compile_log

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
BACKEND = os.environ.get('MMFUSION_COMPILE_TEST_BACKEND', 'aot_eager')
IMG_SCALE = (160, 96)  # (width, height): the tiny sample's frames
# sizes 64, 96 and 128 high: (64, 96), (96, 160), (128, 192)
SIZE_RANGE = (64, 128)
FRAMES = {'backbones.rgb', 'fusion_neck', 'neck', 'bbox_head'}


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Dynamo's caches are per code object and process-wide: compilations
    of other tests would count towards this test's recompile limits."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


class SizeAndCompileRecorder(Hook):
    """Records the input size of every training batch and the compile log
    length at the epoch and validation boundaries."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.sizes = []
        self.log_at = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        resizer = runner.model.data_preprocessor.batch_augments[0]
        self.sizes.append((runner.epoch, resizer._input_size))

    def before_train_epoch(self, runner):
        self.log_at[f'epoch{runner.epoch + 1}'] = len(get_compile_log())

    def before_val_epoch(self, runner):
        self.log_at['val_start'] = len(get_compile_log())

    def after_val_epoch(self, runner, metrics=None):
        self.log_at['val_end'] = len(get_compile_log())


def compiled_cfg(root: str, work_dir: str, shapes: str) -> Config:
    """The dual demo config on the tiny sample, compiled, multi-scale
    (a new random size every iteration), two epochs with the backbones
    frozen in the first (batch 2, then 3), EMA and a validation each
    epoch."""
    cfg = Config(
        Config.fromfile(CONFIG).to_dict(),
        filename=CONFIG,
        format_python_code=False)
    cfg.work_dir = work_dir
    cfg.visualizer.name = f'vis_{osp.basename(work_dir)}'
    for pipeline in (cfg.train_dataloader.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline):
        for step in pipeline:
            if step.get('transform', {}).get('type') == 'Resize':
                step.transform.scale = IMG_SCALE
    cfg.model.data_preprocessor.batch_augments = [
        dict(
            type='DualModalBatchSyncRandomResize',
            random_size_range=SIZE_RANGE,
            size_divisor=32,
            interval=1)
    ]
    cfg.model.compile_network = dict(backend=BACKEND, shapes=shapes)
    cfg.model.test_cfg.score_thr = 0.0
    cfg.train_cfg.update(max_epochs=2, val_interval=1)
    cfg.train_dataloader.dataset.dataset.data_root = root
    cfg.train_dataloader.update(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        num_batch_per_epoch=3)
    cfg.val_dataloader.dataset.data_root = root
    cfg.val_dataloader.update(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        num_batch_per_epoch=1)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.default_hooks.checkpoint.interval = 1
    cfg.custom_hooks = [
        dict(
            type='FreezeScheduleHook',
            modules=['backbones'],
            freeze_epochs=1,
            freeze_batch_size=2,
            unfreeze_batch_size=3),
        dict(
            type='EMAHook',
            ema_type='ExpMomentumEMA',
            momentum=0.0001,
            update_buffers=True,
            priority=49),
    ]
    return cfg


def train_losses(work_dir: str) -> list:
    """Summed training loss of each logged iteration of the latest run."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    with open(files[-1]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [row['loss'] for row in rows if 'loss' in row and 'lr' in row]


def test_compiled_dual_model_trains_through_size_and_stage_changes(
        fred_tiny_root, tmp_path):
    work_dir = str(tmp_path / 'run')
    cfg = compiled_cfg(fred_tiny_root, work_dir, 'dynamic')
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    recorder = SizeAndCompileRecorder()
    runner.register_hook(recorder)
    log = get_compile_log()
    start = len(log)
    runner.train()

    model = runner.model
    compiler = model.train_compiler
    assert compiler.compiled_modules == ('backbones.rgb', 'backbones.event',
                                         'fusion_neck', 'neck', 'bbox_head')
    # the multi-scale resizer chose several sizes while compiled modules ran
    sizes = {size for _, size in recorder.sizes if size is not None}
    assert len(sizes) >= 2, recorder.sizes
    events = [e for e in log.events(start) if e.kind == 'dynamo']
    assert {e.module for e in events} == FRAMES
    # epoch 1 (frozen backbones, batch 2): one compilation per compiled
    # function for all its sizes (the two backbones share theirs)
    epoch1 = log.events(start)[:recorder.log_at['epoch2'] - start]
    assert sorted(e.module for e in epoch1
                  if e.kind == 'dynamo') == sorted(FRAMES)
    # epoch 2 (trainable backbones, batch 3) recompiles for the new
    # requires_grad / batch size, then no more (inductor's CPU lowering of
    # the backward specialises the sizes: then each size compiles, which is
    # logged as a warning); validation compiles nothing
    (log_file, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    text = open(log_file).read()
    per_module = {m: sum(e.module == m for e in events) for m in FRAMES}
    assert min(per_module.values()) >= 1
    assert max(per_module.values()) <= compiler.recompile_limit
    if 'the backend probably specialised' not in text:
        assert max(per_module.values()) <= 3, per_module
    assert recorder.log_at['val_end'] == recorder.log_at['val_start']
    losses = train_losses(work_dir)
    assert len(losses) == 6 and all(math.isfinite(v) for v in losses)
    # every compilation is in the run's log, with module, shapes, seconds
    assert text.count('torch.compile [') >= len(events)
    # (counted per process: other tests may have compiled before)
    assert re.search(
        r'backbones\.rgb compiled \(its compilation \d+\) '
        'for inputs', text)

    # the eager model's checkpoint keys; the EMA copy has no compiled parts
    ckpt = torch.load(
        osp.join(work_dir, 'epoch_1.pth'),
        map_location='cpu',
        weights_only=False)
    keys = set(ckpt['state_dict'])
    assert keys == set(model.state_dict())
    assert not any('_orig_mod' in k for k in keys)
    ema_hook = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook')
    assert ema_hook.ema_model.module.train_compiler.compiled_modules == ()

    # --resume from epoch 1: epoch 2 trains again, compiled
    cfg = compiled_cfg(fred_tiny_root, work_dir, 'dynamic')
    cfg.resume = True
    cfg.load_from = osp.join(work_dir, 'epoch_1.pth')
    cfg.visualizer.name = 'vis_resumed'
    cfg.default_hooks.logger.interval = 1
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.epoch == 2
    assert resumed.model.train_compiler.compiled_modules
    losses = train_losses(work_dir)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    ckpt = torch.load(
        osp.join(work_dir, 'epoch_2.pth'),
        map_location='cpu',
        weights_only=False)
    assert set(ckpt['state_dict']) == keys
