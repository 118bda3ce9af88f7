"""LoadFREDImages gives the model decoded frames or refuses the file: the
detector and its data preprocessor do not check the values of their
inputs (a NaN check there is a device synchronisation every step)."""
import os.path as osp
import re

import numpy as np
import pytest

from projects.fred_fusion.fred_fusion.datasets import (FREDDataError,
                                                       LoadFREDImages)


def test_frames_are_decoded_and_finite(fred_data):
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
