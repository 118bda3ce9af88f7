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
from tests.test_trimodal_odom.test_models.test_trimodal_odometry import \
    light_model_cfg

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


def _odometry_model(**kwargs):
    """The light trimodal model with the odometry data preprocessor."""
    init_default_scope('mmdet3d')
    from mmdet3d.registry import MODELS

    import projects.trimodal_odom.trimodal_odom.models  # noqa: F401
    cfg = light_model_cfg(fusion='ConcatFusion', **kwargs.pop('encoders', {}))
    cfg['data_preprocessor'] = dict(type='OdometryDataPreprocessor')
    return MODELS.build(dict(cfg, **kwargs))


def _with_meta(packed, seq, frames):
    packed['data_samples'].set_metainfo(dict(seq=seq, frame_ids=frames))
    return packed


@pytest.mark.parametrize('break_sample, message', [
    (lambda s: s['inputs']['points_mask'][1].zero_(),
     r'sample 1 \(sequence 07 frames \(4, 5\)\) is marked with LiDAR but '
     'has an empty scan'),
    (lambda s: s['inputs'].__setitem__('imu', torch.zeros(0, 6)),
     r'sample 1 \(sequence 07 frames \(4, 5\)\) is marked with IMU but has '
     'no IMU sample'),
])
def test_contradicting_masks_are_refused_on_the_host(break_sample, message):
    """What the model's forward no longer checks (a value check there is a
    device synchronisation every step): the preprocessor checks every
    sample before the batch goes to the device, naming it."""
    model = _odometry_model()
    broken = _with_meta(_packed(8, 8, (3, 3), 2), '07', (4, 5))
    break_sample(broken)
    batch = odom_collate([_packed(8, 8, (3, 3), 2), broken])
    with pytest.raises(ValueError, match=message):
        model.data_preprocessor(batch)


def test_samples_need_the_models_modalities():
    camera_only = _odometry_model(encoders=dict(point=None, imu=None))
    assert camera_only.data_preprocessor.modalities == ('visual', )
    batch = odom_collate([
        _packed(8, 8, (3, 3), 2),
        _with_meta(_packed(8, 8, (3, 3), 2, camera=False), '00', (1, 2))
    ])
    with pytest.raises(
            ValueError,
            match=r"sample 1 \(sequence 00 frames \(1, 2\)\) has none of the "
            r"modalities \('visual',\)"):
        camera_only.data_preprocessor(batch)
    needs_imu = _odometry_model(required_modalities=('imu', ))
    batch = odom_collate([
        _packed(8, 8, (3, 3), 2),
        _with_meta(_packed(8, 8, (3, 3), 0, has_imu=False), '03', (0, 1))
    ])
    with pytest.raises(
            ValueError,
            match=r"modality 'imu' is required but absent in sample 1 "
            r'\(sequence 03 frames \(0, 1\)\)'):
        needs_imu.data_preprocessor(batch)
    # the whole model accepts what its preprocessor lets through
    losses = needs_imu(
        **needs_imu.data_preprocessor(
            odom_collate([_packed(8, 8, (3, 3), 2)] * 2)),
        mode='loss')
    assert torch.isfinite(sum(losses.values()))
