"""``tools/test.py --show-dir`` draws RGB and event frames side by side."""
import glob
import os.path as osp
import runpy
import sys

import cv2
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
TEST_TOOL = osp.join(REPO, 'tools', 'test.py')


def test_test_tool_show_dir(fred_tiny_root, tmp_path, monkeypatch):
    cfg = Config.fromfile(CONFIG)
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)

    loader = 'test_dataloader.'
    monkeypatch.setattr(sys, 'argv', [
        TEST_TOOL, CONFIG, ckpt, '--work-dir',
        str(tmp_path), '--show-dir', 'show', '--cfg-options',
        f'{loader}dataset.data_root={fred_tiny_root}',
        f'{loader}num_workers=0', f'{loader}persistent_workers=False',
        f'{loader}batch_size=2', f'{loader}num_batch_per_epoch=1',
        'visualizer.name=show_dir_test', 'model.test_cfg.score_thr=0.5'
    ])
    runpy.run_path(TEST_TOOL, run_name='__main__')

    images = sorted(glob.glob(str(tmp_path / '*' / 'show' / '*.jpg')))
    assert len(images) == 2
    for path in images:
        # named after the RGB frame: Video_<seq>_<H>_<M>_<S.frac>.jpg
        assert osp.basename(path).startswith('Video_')
        drawn = cv2.imread(path)
        # ground truth row over prediction row, RGB | event (160x90 each)
        assert drawn.shape == (2 * 90, 2 * 160, 3)
        rgb_gt, event_gt = drawn[:90, :160], drawn[:90, 160:]
        # the event frame is mostly dark background, the RGB frame is not
        assert event_gt.mean() < rgb_gt.mean()
