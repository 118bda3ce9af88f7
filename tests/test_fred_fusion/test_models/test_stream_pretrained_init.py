"""A checkpoint written by mmdet's own single-stream YOLOX, loaded into the
dual-stream model through ``init_cfg=dict(type='StreamPretrained')``."""
import io
import logging
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint
from mmengine.utils import import_modules_from_strings

from tests.test_fred_fusion.checkpoints import (MMDET_YOLOX_S,
                                                mmdet_yolox_checkpoint)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_s_dual-concat_coco-pretrained_1xb8-300e_fred.py')
CLASSIFIER = 'bbox_head.multi_level_conv_cls.'


@pytest.fixture(scope='module')
def yolox_s(tmp_path_factory):
    """mmdet's YOLOX-s checkpoint (80 classes) and its state dict."""
    path = mmdet_yolox_checkpoint(
        str(tmp_path_factory.mktemp('coco') / 'yolox_s.pth'))
    return path, torch.load(path, weights_only=False)['state_dict']


@pytest.fixture
def log():
    """What the current mmengine logger writes during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def build_pretrained(checkpoint, **model_kwargs):
    cfg = Config.fromfile(CONFIG)
    cfg.model.init_cfg.checkpoint = checkpoint
    cfg.model.update(model_kwargs)
    import_modules_from_strings(**cfg.custom_imports)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.mark.parametrize('share_weights', [False, True])
def test_every_stream_gets_the_coco_backbone(yolox_s, share_weights, log):
    path, source = yolox_s
    model = build_pretrained(path, share_weights=share_weights)
    state = model.state_dict()
    streams = ['shared'] if share_weights else ['rgb', 'event']
    backbone = {k: v for k, v in source.items() if k.startswith('backbone.')}
    assert len(backbone) > 200
    for key, tensor in backbone.items():
        for stream in streams:
            name = f'backbones.{stream}.{key[len("backbone."):]}'
            assert torch.equal(state[name], tensor), name
    # neck and head as they are, except the 80-class classifier
    others = [k for k in source if not k.startswith('backbone.')]
    for key in others:
        if key.startswith(CLASSIFIER):
            assert state[key].shape[0] == 5 and source[key].shape[0] == 80
            assert not torch.equal(state[key], source[key][:5])
        else:
            assert torch.equal(state[key], source[key]), key

    log = log.getvalue()
    loaded = len(backbone) * len(streams) + len(others) - 6
    assert (f'StreamPretrainedInit: loaded {loaded} of {len(state)} tensors '
            f'of DualStreamYOLOX from {path}') in log
    # every tensor not loaded is named: the classifier with both shapes,
    # the fusion neck that the checkpoint does not have
    assert 'shape differs (model vs checkpoint): 6' in log
    assert (f'    {CLASSIFIER}0.weight: [5, 128, 1, 1] vs [80, 128, 1, 1]'
            in log)
    assert f'    {CLASSIFIER}2.bias: [5] vs [80]' in log
    fusion = [k for k in state if k.startswith('fusion_neck.')]
    assert f'not in the checkpoint: {len(fusion)}' in log
    for name in fusion:
        assert f'    {name}\n' in log
    assert 'checkpoint tensors not used: 0' in log


def test_pretrained_stream_computes_the_coco_features(yolox_s):
    """The RGB stream with its preprocessing (BGR pixels, no normalisation,
    as mmdet's YOLOX) gives exactly the features of the source model's
    backbone on the same frame (both in the channels-last layout of the
    FRED configs, which changes the convolutions' rounding)."""
    path, _ = yolox_s
    model = build_pretrained(path).eval()
    assert model.channels_last
    yolox = MODELS.build(get_config(MMDET_YOLOX_S).model).eval()
    load_checkpoint(yolox, path, map_location='cpu', logger='silent')
    yolox.to(memory_format=torch.channels_last)
    frame = torch.randint(0, 256, (3, 96, 160), dtype=torch.uint8)
    with torch.no_grad():
        ours = model.data_preprocessor(
            dict(inputs=dict(rgb=[frame], event=[frame])))['inputs']
        theirs = yolox.data_preprocessor(dict(inputs=[frame]))['inputs']
        assert torch.equal(ours['rgb'], theirs)
        theirs = theirs.contiguous(memory_format=torch.channels_last)
        for a, b in zip(
                model.extract_stream_feats(ours)['rgb'],
                yolox.backbone(theirs)):
            assert torch.equal(a, b)


def test_single_stream_config_and_cfg_options(yolox_s, log):
    """The RGB-only COCO config loads backbone, neck and head; the
    initialiser is selected from --cfg-options like any init_cfg."""
    path, source = yolox_s
    cfg = Config.fromfile(
        CONFIG.replace('dual-concat_coco-pretrained', 'rgb_coco-pretrained'))
    cfg.merge_from_dict({'model.init_cfg.checkpoint': path})
    import_modules_from_strings(**cfg.custom_imports)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.state_dict()
    assert set(state) == {
        k.replace('backbone.', 'backbones.rgb.', 1)
        for k in source
    }
    assert torch.equal(state['backbones.rgb.stem.conv.conv.weight'],
                       source['backbone.stem.conv.conv.weight'])
    assert torch.equal(state['neck.out_convs.0.conv.weight'],
                       source['neck.out_convs.0.conv.weight'])
    assert 'not in the checkpoint: 0' in log.getvalue()


def test_tensors_of_another_size_are_named(tmp_path, log):
    """A YOLOX-tiny checkpoint in the YOLOX-s model: every tensor of another
    width is left at its initialisation and named with both shapes."""
    path = mmdet_yolox_checkpoint(
        str(tmp_path / 'tiny.pth'), widen_factor=0.375, neck_channels=96)
    model = build_pretrained(path)
    text = log.getvalue()
    for stream in ('rgb', 'event'):
        assert (f'    backbones.{stream}.stem.conv.conv.weight: '
                '[32, 12, 3, 3] vs [24, 12, 3, 3]\n') in text
    assert '    neck.out_convs.0.conv.weight: [128, 128, 1, 1] vs ' \
        '[96, 96, 1, 1]\n' in text
    source = torch.load(path, weights_only=False)['state_dict']
    # tensors whose shape does not depend on the width are loaded
    name = 'bbox_head.multi_level_conv_obj.0.bias'
    assert torch.equal(model.state_dict()[name], source[name])


def test_model_without_streams_is_refused(yolox_s):
    from projects.fred_fusion.fred_fusion.models import StreamPretrainedInit
    with pytest.raises(TypeError, match="has no nn.ModuleDict 'backbones'"):
        StreamPretrainedInit(yolox_s[0])(torch.nn.Conv2d(3, 3, 1))
