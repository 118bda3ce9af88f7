import importlib.util
import json
import os
import os.path as osp

import cv2
import pytest

from projects.fred_fusion.fred_fusion.testing.fred_sample import \
    generate_fred_sample
from tests.test_fred_fusion.checkpoints import init_checkpoint

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG_DIR = osp.join(REPO, 'configs', 'fred_fusion')
DUAL = osp.join(CONFIG_DIR, 'yolox_tiny_dual-concat_1xb8-demo_fred-sample.py')
RGB = osp.join(CONFIG_DIR, 'yolox_tiny_rgb_1xb8-demo_fred-sample.py')
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
