"""OdomImageQuality tells dark, overexposed and blurred frames from normal
ones."""
import cv2
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.datasets.transforms import (
    IMAGE_QUALITY_NAMES, OdomImageQuality, image_quality)


def textured(seed=0, h=96, w=320):
    """A sharp BGR scene: blocks of random grey levels and an edge."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(40, 200, size=(h // 8, w // 8), dtype=np.uint8)
    grey = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST)
    return np.repeat(grey[..., None], 3, axis=2)


def quality(img):
    return dict(zip(IMAGE_QUALITY_NAMES, image_quality(img)))


def test_statistics_follow_the_failure():
    normal = textured()
    dark = np.clip(
        normal * 0.07 + np.random.default_rng(1).normal(0, 3, normal.shape), 0,
        255).astype(np.uint8)
    overexposed = np.clip(normal.astype(np.float32) * 4.0, 0,
                          255).astype(np.uint8)
    blurred = cv2.blur(normal, (15, 1))
    q = {
        name: quality(img)
        for name, img in (('normal', normal), ('dark', dark),
                          ('overexposed', overexposed), ('blurred', blurred))
    }
    assert all(0 <= v <= 1 for s in q.values() for v in s.values())
    assert q['normal']['dark_fraction'] == 0
    assert q['normal']['saturated_fraction'] == 0
    assert q['dark']['dark_fraction'] > 0.9
    assert q['dark']['brightness'] < 0.1 < q['normal']['brightness']
    assert q['dark']['contrast'] < 0.3 * q['normal']['contrast']
    assert q['overexposed']['saturated_fraction'] > 0.5
    assert q['blurred']['sharpness'] < q['normal']['sharpness'] - 0.1
    # the exposure of a blurred frame is that of the sharp one
    assert abs(q['blurred']['brightness'] - q['normal']['brightness']) < 0.01
    flat = np.full((8, 8), 128, dtype=np.uint8)
    assert quality(flat)['sharpness'] == 0 and quality(flat)['contrast'] == 0


def test_transform_stores_both_frames():
    normal, dark = textured(), (textured() * 0.05).astype(np.uint8)
    t = OdomImageQuality()
    out = t(dict(imgs=[normal, dark]))['img_quality']
    assert out.dtype == np.float32 and out.shape == (10, )
    np.testing.assert_array_equal(out[:5], image_quality(normal))
    np.testing.assert_array_equal(out[5:], image_quality(dark))
    assert t(dict(points=[])) == dict(points=[])  # no camera: passed
    with pytest.raises(ValueError, match='two images'):
        t(dict(imgs=[normal]))
    with pytest.raises(ValueError, match='dark_level'):
        OdomImageQuality(dark_level=250)
    with pytest.raises(ValueError, match='image'):
        image_quality(np.zeros((4, 4, 3, 1), dtype=np.uint8))
    # the transform's error names the frame's file
    with pytest.raises(ValueError, match=r'00/image_2/000001\.png: .*small'):
        t(
            dict(
                imgs=[normal, np.zeros((1, 5, 3), np.uint8)],
                img_paths=['00/image_2/000000.png', '00/image_2/000001.png']))
