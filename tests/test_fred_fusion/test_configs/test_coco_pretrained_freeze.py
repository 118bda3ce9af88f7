"""Stage 1 of the two-stage schedule on COCO-pretrained streams: a few
iterations with the real Runner keep every backbone tensor of both streams
equal to the checkpoint while the rest of the model trains."""
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from tests.test_fred_fusion.test_configs.test_fred_configs import (load_config,
                                                                   shrink)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_s_dual-concat_coco-pretrained_1xb8-300e_fred.py')


@pytest.mark.parametrize('freeze_epochs', [50, 0])
def test_freeze_stage_keeps_the_pretrained_backbones(freeze_epochs,
                                                     fred_tiny_root,
                                                     coco_checkpoint,
                                                     tmp_path):
    cfg = shrink(
        load_config(CONFIG), fred_tiny_root, str(tmp_path), coco_checkpoint)
    cfg.train_cfg.update(max_epochs=2, val_interval=2)
    cfg.train_dataloader.num_batch_per_epoch = 3
    (hook, ) = [
        h for h in cfg.custom_hooks if h['type'] == 'FreezeScheduleHook'
    ]
    hook['freeze_epochs'] = freeze_epochs
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 6

    source = torch.load(coco_checkpoint, weights_only=False)['state_dict']
    backbone = {
        k[len('backbone.'):]: v
        for k, v in source.items() if k.startswith('backbone.')
    }
    # the trained model, and the saved checkpoint (EMA weights)
    saved = torch.load(
        tmp_path / 'epoch_2.pth', weights_only=False)['state_dict']
    for state in (runner.model.state_dict(), saved):
        same = [
            torch.equal(state[f'backbones.{stream}.{key}'], tensor)
            for key, tensor in backbone.items() for stream in ('rgb', 'event')
        ]
        if freeze_epochs:
            # weights and BatchNorm statistics of both streams untouched
            assert all(same)
        else:
            # without the freeze stage they train from the first step
            assert not all(same)
        # the neck trains in either case
        assert not all(
            torch.equal(state[k], v)
            for k, v in source.items() if k.startswith('neck.'))
