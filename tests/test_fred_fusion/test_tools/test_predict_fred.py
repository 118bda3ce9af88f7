import importlib.util
import json
import os
import os.path as osp

import cv2
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.utils import import_modules_from_strings

from projects.fred_fusion.fred_fusion.converters import convert_splits
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample
from tests.test_fred_fusion.checkpoints import init_checkpoint

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG_DIR = osp.join(REPO, 'configs', 'fred_fusion')
DUAL = osp.join(CONFIG_DIR, 'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
RGB = osp.join(CONFIG_DIR, 'yolox_w0125_rgb_1xb8-demo_fred-sample.py')
TOOL = osp.join(REPO, 'tools', 'misc', 'predict_fred.py')
REAL = osp.join(REPO, 'tests', 'data', 'fred', 'real_samples')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('predict_fred', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_predict_real_pair(tool, tmp_path):
    ckpt = init_checkpoint(
        DUAL,
        str(tmp_path / 'dual.pth'),
        pair_discriminator=dict(type='PairDiscriminator', in_channels=128))
    out = tmp_path / 'out'
    ret = tool.main([
        DUAL, ckpt, '--rgb',
        osp.join(REAL, 'night_rgb.jpg'), '--event',
        osp.join(REAL, 'night_ev.png'), '--out-dir',
        str(out), '--score-thr', '0.5', '--cfg-options',
        'model.pair_discriminator.type=PairDiscriminator',
        'model.pair_discriminator.in_channels=128',
        'model.test_cfg.score_thr=0'
    ])
    assert ret == 0
    with open(out / 'predictions.json') as f:
        result = json.load(f)
    assert result['modalities'] == ['rgb', 'event']
    (frame, ) = result['frames']
    assert frame['img_path'].endswith('night_rgb.jpg')
    assert 0.0 <= frame['pair_score'] <= 1.0
    assert all(d['score'] >= 0.5 for d in frame['detections'])
    drawn = cv2.imread(str(out / 'vis' / 'night_rgb.jpg'))
    # RGB and event frame (1280x720 each) side by side
    assert drawn.shape == (720, 2560, 3)


def test_predict_sequence_folder_rgb_model(tool, tmp_path):
    root = str(tmp_path / 'fred')
    generate_fred_sample(root, preset='tiny', seed=0)
    seq = sorted(d for d in os.listdir(root) if d.isdigit())[0]
    ckpt = init_checkpoint(RGB, str(tmp_path / 'rgb.pth'))
    out = tmp_path / 'out'
    ret = tool.main([
        RGB, ckpt, '--seq-dir',
        osp.join(root, seq), '--out-dir',
        str(out), '--max-frames', '2', '--score-thr', '0', '--max-dets', '3',
        '--cfg-options', 'model.test_cfg.score_thr=0'
    ])
    assert ret == 0
    with open(out / 'predictions.json') as f:
        result = json.load(f)
    assert result['modalities'] == ['rgb']
    frames = result['frames']
    assert len(frames) == 2
    for frame in frames:
        assert '/RGB/' in frame['img_path']
        assert '/Event/Frames/' in frame['event_path']
        assert frame['paired'] == (abs(frame['time_diff']) <= 0.1)
        # score threshold 0 keeps every box, in the 160x90 frame
        assert len(frame['detections']) == 3
        scores = [d['score'] for d in frame['detections']]
        assert scores == sorted(scores, reverse=True)
        det = frame['detections'][0]
        assert set(det) == {'bbox', 'score', 'label', 'class_name'}
        assert 0 <= det['label'] < 5
        x1, y1, x2, y2 = det['bbox']
        assert 0 <= x1 <= x2 <= 160 and 0 <= y1 <= y2 <= 90
    assert len(os.listdir(out / 'vis')) == 2


def test_predict_bad_arguments(tool, tmp_path):
    with pytest.raises(SystemExit):
        tool.main([DUAL, 'x.pth', '--rgb', 'a.jpg', '--out-dir', 'o'])
    ckpt = init_checkpoint(DUAL, str(tmp_path / 'dual.pth'))
    with pytest.raises(FileNotFoundError, match='missing.png does not exist'):
        tool.main([
            DUAL, ckpt, '--rgb',
            osp.join(REAL, 'night_rgb.jpg'), '--event',
            str(tmp_path / 'missing.png'), '--out-dir',
            str(tmp_path / 'o')
        ])


@pytest.fixture(scope='module')
def real_size_root(tmp_path_factory):
    """Generated sequences of real FRED size (1280x720), converted."""
    root = str(tmp_path_factory.mktemp('fred_1280'))
    generate_fred_sample(
        root,
        preset='tiny',
        num_sequences=2,
        num_test=1,
        num_frames=8,
        img_size=(1280, 720),
        drone_scale=0.5)
    convert_splits(root, ('test', ), osp.join(root, 'annotations'))
    return root


@pytest.mark.parametrize('config, scale, pad_shape', [
    (DUAL, 0.25, (192, 320)),
    (osp.join(CONFIG_DIR, 'yolox_s_dual-concat_1xb8-300e_fred.py'), 0.5,
     (640, 640))
])
def test_prediction_preprocesses_like_the_test_pipeline(
        tool, real_size_root, config, scale, pad_shape):
    """On a 1280x720 pair, predict_fred's inputs are the test dataset's:
    the same letterbox (the frame resized by ``scale`` and padded to
    ``pad_shape``) and the same tensors after the data preprocessor."""
    cfg = Config.fromfile(config)
    import_modules_from_strings(**cfg.custom_imports)
    data_cfg = cfg.test_dataloader.dataset
    data_cfg.update(data_root=real_size_root + '/')
    dataset = DATASETS.build(data_cfg)
    pipeline = tool.build_test_pipeline(cfg)
    preprocess = MODELS.build(cfg.model).data_preprocessor
    for i in (0, len(dataset) - 1):
        tested = dataset[i]
        info = dataset.get_data_info(i)
        predicted = pipeline(
            dict(
                img_path=info['img_path'],
                event_path=info['event_path'],
                img_id=info['img_id'],
                modality='dual'))
        for key in ('ori_shape', 'img_shape', 'pad_shape', 'scale_factor'):
            assert predicted['data_samples'].metainfo[key] == \
                tested['data_samples'].metainfo[key], key
        meta = tested['data_samples']
        assert meta.ori_shape == (720, 1280)
        assert tuple(meta.scale_factor) == (scale, scale)
        assert tuple(meta.pad_shape[:2]) == meta.img_shape == pad_shape
        a = preprocess(pseudo_collate([predicted]))
        b = preprocess(pseudo_collate([tested]))
        for modality in ('rgb', 'event'):
            assert a['inputs'][modality].shape[-2:] == pad_shape
            assert torch.equal(a['inputs'][modality], b['inputs'][modality])
        # the padding below the 16:9 frame holds the pad value
        height = round(720 * scale)
        rgb = tested['inputs']['rgb']
        assert (rgb[:, height:] == 114).all()
        assert not (rgb[:, height - 1] == 114).all()
