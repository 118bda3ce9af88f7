import os.path as osp

import cv2
import numpy as np
from mmdet.registry import TRANSFORMS

from projects.fred_fusion.fred_fusion.datasets.transforms.event_augment import (  # noqa: E501
    EVENT_BACKGROUND, EVENT_OFF, EVENT_ON)


def real_dual(data):
    real = osp.join(data, 'real_samples')
    return dict(
        modality='dual',
        img=cv2.imread(osp.join(real, 'night_rgb.jpg')),
        event_img=cv2.imread(osp.join(real, 'night_ev.png')))


def count(img, color):
    return int((img == np.array(color, np.uint8)).all(-1).sum())


def test_event_augmentations_touch_only_the_event_frame(fred_data):
    results = real_dual(fred_data)
    rgb = results['img'].copy()
    event = results['event_img'].copy()
    on, off = count(event, EVENT_ON), count(event, EVENT_OFF)
    assert on > 0 and off > 0

    swap = TRANSFORMS.build(dict(type='EventPolaritySwap', prob=1.0))
    out = swap(dict(results))
    assert count(out['event_img'], EVENT_ON) == off
    assert count(out['event_img'], EVENT_OFF) == on
    assert (out['img'] == rgb).all() and (results['event_img'] == event).all()

    np.random.seed(0)
    noise = TRANSFORMS.build(dict(type='EventNoise', prob=1.0, ratio=0.01))
    out = noise(dict(results))
    added = count(out['event_img'], EVENT_ON) + count(out['event_img'],
                                                      EVENT_OFF) - on - off
    assert 0.005 * 1280 * 720 < added < 0.015 * 1280 * 720

    drop = TRANSFORMS.build(dict(type='EventDropout', prob=1.0, ratio=0.5))
    out = drop(dict(results))
    left = count(out['event_img'], EVENT_ON) + count(out['event_img'],
                                                     EVENT_OFF)
    assert 0.3 * (on + off) < left < 0.7 * (on + off)
    assert count(out['event_img'],
                 EVENT_BACKGROUND) > count(event, EVENT_BACKGROUND)
    # an RGB-only sample is left alone
    rgb_only = dict(modality='rgb', img=rgb.copy())
    assert (swap(rgb_only)['img'] == rgb).all()
