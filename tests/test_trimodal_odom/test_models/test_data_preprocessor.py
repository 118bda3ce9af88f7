import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from projects.trimodal_odom.trimodal_odom.datasets import odom_collate
from projects.trimodal_odom.trimodal_odom.models.data_preprocessors import \
    OdometryDataPreprocessor
from projects.trimodal_odom.trimodal_odom.structures import OdometryDataSample

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


def _packed(h, w, sizes, imu_len, camera=True, has_imu=True):
    g = torch.Generator().manual_seed(h * w + imu_len)
    inputs = dict(
        imgs=torch.randint(
            0, 256, (2, 3, h, w), dtype=torch.uint8, generator=g),
        points=[torch.randn(n, 4, generator=g) for n in sizes],
        points_mask=[torch.ones(n, dtype=torch.bool) for n in sizes],
        imu=torch.randn(imu_len, 6, generator=g),
        modality_mask=torch.tensor([camera, True, has_imu]))
    sample = OdometryDataSample(metainfo=dict(seq='00'))
    sample.gt_pose = torch.eye(4)
    return dict(inputs=inputs, data_samples=sample)


def test_normalise_pad_and_batch():
    batch = odom_collate([
        _packed(10, 20, (5, 7), 3),
        _packed(12, 18, (9, 2), 0, has_imu=False),
        _packed(8, 20, (4, 4), 6, camera=False),
    ])
    mean, std = [10.0, 20.0, 30.0], [2.0, 4.0, 8.0]
    pre = OdometryDataPreprocessor(
        mean=mean, std=std, bgr_to_rgb=True, pad_size_divisor=8)
    out = pre(batch)['inputs']
    assert out['imgs'].shape == (3, 2, 3, 16, 24)
    src = batch['inputs'][0]['imgs'].float().flip(1)  # BGR -> RGB
    expected = (src - torch.tensor(mean).view(
        1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(out['imgs'][0, :, :, :10, :20], expected)
    assert not out['imgs'][0, :, :, 10:].any()  # padding
    assert not out['imgs'][2].any()  # camera absent
    assert out['points'].shape == (3, 2, 9, 4)
    assert out['points_mask'].sum(-1).tolist() == [[5, 7], [9, 2], [4, 4]]
    torch.testing.assert_close(out['points'][1, 1, :2],
                               batch['inputs'][1]['points'][1])
    assert not out['points'][~out['points_mask']].any()
    assert out['imu'].shape == (3, 6, 6)
    assert out['imu_mask'].sum(-1).tolist() == [3, 0, 6]
    torch.testing.assert_close(out['imu'][2], batch['inputs'][2]['imu'])
    assert out['modality_mask'].tolist() == [[True, True, True],
                                             [True, True, False],
                                             [False, True, True]]


def test_rejects_unpadded_collate():
    from mmengine.dataset import pseudo_collate
    pre = OdometryDataPreprocessor()
    with pytest.raises(TypeError, match='odom_collate'):
        pre(pseudo_collate([_packed(8, 8, (3, 3), 2)] * 2))
    batch = odom_collate([_packed(8, 8, (3, 3), 2), _packed(8, 8, (3, 3), 2)])
    del batch['inputs'][1]['imu']
    with pytest.raises(ValueError, match='sample 1 has inputs'):
        pre(batch)


def test_model_forward_on_preprocessed_batch():
    init_default_scope('mmdet3d')
    from mmdet3d.registry import MODELS

    import projects.trimodal_odom.trimodal_odom.models  # noqa: F401
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'trimodal_odom', '_base_', 'models',
                 'trimodal_odom.py'))
    data_cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'trimodal_odom', '_base_', 'datasets',
                 'kitti_odom_sample.py'))
    model = MODELS.build(
        dict(cfg.model, data_preprocessor=data_cfg.data_preprocessor))
    torch.manual_seed(0)
    batch = odom_collate([
        _packed(32, 64, (50, 70), 11),
        _packed(32, 64, (64, 12), 10),
        _packed(32, 64, (33, 33), 0, has_imu=False),
        _packed(32, 64, (8, 90), 23, camera=False),
    ])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(batch), mode='predict')
    assert len(preds) == 4
    assert np.isfinite(preds[0].pred_pose.numpy()).all()
