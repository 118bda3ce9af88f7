"""LoadFREDImages: decoded frames, at the size training needs."""
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.structures.bbox import HorizontalBoxes

from projects.fred_fusion.fred_fusion.datasets.fred_data_error import \
    FREDDataError
from projects.fred_fusion.fred_fusion.datasets.transforms import (
    LoadFREDImages, PackDualModalInputs)
from projects.fred_fusion.fred_fusion.datasets.transforms.loading import \
    fit_size


@pytest.fixture
def real_pair(tmp_path, fred_data):
    """The real 1280x720 night frames of FRED as a dual sample."""
    rgb = str(tmp_path / 'night_rgb.jpg')
    event = str(tmp_path / 'night_ev.png')
    shutil.copy(osp.join(fred_data, 'real_samples', 'night_rgb.jpg'), rgb)
    shutil.copy(osp.join(fred_data, 'real_samples', 'night_ev.png'), event)
    return dict(
        img_path=rgb,
        event_path=event,
        width=1280,
        height=720,
        modality='dual',
        instances=[
            dict(bbox=[100., 50., 300., 250.], bbox_label=1, ignore_flag=0)
        ])


def load(results, **kwargs):
    results = LoadAnnotations(with_bbox=True)(dict(results))
    return LoadFREDImages(**kwargs)(results)


def test_fit_size_is_mosaics_tile_size():
    assert fit_size((1280, 720), (640, 640)) == (640, 360)
    assert fit_size((160, 96), (320, 320)) == (320, 192)
    assert fit_size((1000, 700), (640, 640)) == (640, 448)


def test_jpeg_decoded_at_half_size_and_boxes_scaled(real_pair):
    full = load(real_pair)
    out = load(real_pair, scale_to=(640, 640))
    assert out['img'].shape == out['event_img'].shape == (360, 640, 3)
    assert out['img_shape'] == (360, 640)
    assert out['ori_shape'] == (720, 1280)
    assert out['scale_factor'] == (0.5, 0.5)
    np.testing.assert_allclose(out['gt_bboxes'].tensor.numpy(),
                               [[50., 25., 150., 125.]])
    # the event frame resized as Mosaic's mmcv.imresize resizes it
    want = cv2.resize(
        full['event_img'], (640, 360), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(out['event_img'], want)
    # libjpeg's 1/2 scaling against the full decode resized bilinearly
    want = cv2.resize(full['img'], (640, 360), interpolation=cv2.INTER_LINEAR)
    diff = np.abs(out['img'].astype(int) - want)
    assert diff.mean() < 0.5 and np.percentile(diff, 99) <= 3
    packed = PackDualModalInputs()(out)
    assert packed['inputs']['rgb'].shape == (3, 360, 640)
    assert packed['data_samples'].scale_factor == (0.5, 0.5)


def test_reduction_stops_where_the_frame_would_be_too_small(real_pair):
    loader = LoadFREDImages(scale_to=(400, 400))
    # 1/2 gives 640x360 >= 400x225; 1/4 gives 320x180, too small
    assert loader._reduction(1280, 720) == 2
    assert LoadFREDImages(scale_to=(160, 160))._reduction(1280, 720) == 8
    assert LoadFREDImages(scale_to=(1280, 1280))._reduction(1280, 720) == 1
    out = load(real_pair, scale_to=(400, 400))
    assert out['img'].shape == (225, 400, 3)
    np.testing.assert_allclose(out['gt_bboxes'].tensor.numpy(),
                               [[31.25, 15.625, 93.75, 78.125]])


def test_event_only_and_upscaling(real_pair):
    out = load(dict(real_pair, modality='event'), scale_to=(1920, 1920))
    assert out['img'].shape == (1080, 1920, 3) and 'event_img' not in out
    assert isinstance(out['gt_bboxes'], HorizontalBoxes)
    assert out['scale_factor'] == (1.5, 1.5)


def test_bad_order_and_sizes_raise(real_pair):
    with pytest.raises(ValueError, match='put LoadAnnotations before it'):
        LoadFREDImages(scale_to=(640, 640))(dict(real_pair))
    with pytest.raises(FREDDataError, match='the annotation gives 1280x700'):
        load(dict(real_pair, height=700), scale_to=(640, 640))
    with pytest.raises(ValueError, match=r'scale_to must be \(width'):
        LoadFREDImages(scale_to=(640, ))


def test_frames_are_decoded_and_finite(fred_data):
    # the detector and its data preprocessor do not check the values of
    # their inputs (a NaN check there is a device synchronisation every
    # step): the loader gives decoded frames or refuses the file
    real = osp.join(fred_data, 'real_samples')
    results = LoadFREDImages(
        modality='dual', to_float32=True)(
            dict(
                img_path=osp.join(real, 'night_rgb.jpg'),
                event_path=osp.join(real, 'night_ev.png')))
    for key in ('img', 'event_img'):
        img = results[key]
        assert img.dtype == np.float32 and img.shape == (720, 1280, 3)
        assert np.isfinite(img).all()
        assert 0 <= img.min() and img.max() <= 255


def test_undecodable_frame_is_refused_naming_it(fred_data, tmp_path):
    bad = str(tmp_path / 'Video_1_0.png')
    # an end marker but no image before it
    with open(bad, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + b'\x00' * 64 + b'IEND\xaeB`\x82')
    rgb = osp.join(fred_data, 'real_samples', 'night_rgb.jpg')
    with pytest.raises(
            FREDDataError,
            match=rf'{re.escape(bad)}: cannot decode the image .* '
            r'\[unreadable_frame\]'):
        LoadFREDImages(modality='dual')(dict(img_path=rgb, event_path=bad))
