"""decode_image on the real FRED and KITTI frames of tests/data: the pixels
of cv2.imdecode at every flag and scale, and an error saying why for every
kind of damage that OpenCV lets through or refuses silently."""
import io
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mmfusion.datasets import (ImageDecodeError, decode_image, has_end_marker,
                               verify_image)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data')
RGB = osp.join(DATA, 'fred', 'real_samples', 'night_rgb.jpg')
EVENT = osp.join(DATA, 'fred', 'real_samples', 'night_ev.png')
KITTI = osp.join(DATA, 'kitti', 'real_frames', '000000.png')
FLAGS = {
    'color': cv2.IMREAD_COLOR,
    'grayscale': cv2.IMREAD_GRAYSCALE,
    'color_ignore_orientation':
    cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION,
}
REDUCED = {1: 0, 2: 16, 4: 32, 8: 64}


def _read(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


def _cv2(data: bytes, flag: int) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), flag)


def _scan_start(jpeg: bytes) -> int:
    sos = jpeg.index(b'\xff\xda')
    return sos + 2 + int.from_bytes(jpeg[sos + 2:sos + 4], 'big')


def _jpeg(exif_orientation=None, mode='RGB', **save) -> bytes:
    img = Image.fromarray(
        np.random.RandomState(0).randint(0, 255, (60, 90, 3), np.uint8))
    out = io.BytesIO()
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        save['exif'] = exif.tobytes()
    img.convert(mode).save(out, 'JPEG', **save)
    return out.getvalue()


@pytest.mark.parametrize('path', [RGB, EVENT, KITTI])
@pytest.mark.parametrize('flag', sorted(FLAGS))
@pytest.mark.parametrize('scale', [1, 2, 4, 8])
def test_pixels_are_those_of_cv2(path, flag, scale):
    data = _read(path)
    expected = _cv2(data, FLAGS[flag] | REDUCED[scale])
    img = decode_image(data, flag, scale=scale)
    assert img.dtype == np.uint8 and img.shape == expected.shape
    assert np.array_equal(img, expected)


@pytest.mark.parametrize(
    'data',
    [
        _jpeg(exif_orientation=6),  # rotated by OpenCV
        _jpeg(mode='L'),
        _jpeg(mode='CMYK'),
        _jpeg(progressive=True),
    ],
    ids=['exif-rotated', 'gray', 'cmyk', 'progressive'])
@pytest.mark.parametrize('flag', sorted(FLAGS) + ['unchanged'])
def test_other_jpegs_match_cv2(data, flag):
    cv2_flag = FLAGS.get(flag, cv2.IMREAD_UNCHANGED)
    assert np.array_equal(decode_image(data, flag), _cv2(data, cv2_flag))


def _zeroed_jpeg() -> bytes:
    data = _read(RGB)
    i = _scan_start(data) + 2000
    return data[:i] + bytes(500) + data[i + 500:]


def _garbled_jpeg() -> bytes:
    data = bytearray(_read(RGB))
    i = _scan_start(data) + 5000
    data[i:i +
         64] = np.random.RandomState(1).randint(0, 255,
                                                64).astype(np.uint8).tobytes()
    return bytes(data)


def _cut_jpeg_with_end_marker() -> bytes:
    data = _read(RGB)
    return data[:len(data) // 2] + b'\xff\xd9'


def test_damaged_jpeg_data_that_cv2_decodes_is_an_error():
    for damaged in (_zeroed_jpeg(), _garbled_jpeg(),
                    _cut_jpeg_with_end_marker()):
        # OpenCV only warns on stderr and returns damaged pixels ...
        assert _cv2(damaged, cv2.IMREAD_COLOR).shape == (720, 1280, 3)
        assert decode_image(damaged, strict=False).shape == (720, 1280, 3)
        # ... the strict decoder refuses them, at every scale
        for scale in (1, 8):
            with pytest.raises(
                    ImageDecodeError,
                    match='libjpeg: Corrupt JPEG data: premature end of data '
                    'segment'):
                decode_image(damaged, scale=scale)
        with pytest.raises(ImageDecodeError, match='libjpeg'):
            verify_image(damaged)


def _chunks(png: bytes) -> dict:
    pos, found = 8, {}
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], 'big')
        found.setdefault(png[pos + 4:pos + 8].decode(), pos)
        pos += 12 + length
    return found


@pytest.mark.parametrize('path', [EVENT, KITTI])
def test_damaged_png_is_an_error_saying_why(path):
    data = _read(path)
    idat = _chunks(data)['IDAT']
    zeroed = data[:idat + 100] + bytes(200) + data[idat + 300:]
    with pytest.raises(
            ImageDecodeError,
            match=f'CRC error in the IDAT chunk at byte {idat}$'):
        decode_image(zeroed)
    with pytest.raises(
            ImageDecodeError, match=r'^file is truncated \(no end marker\)$'):
        decode_image(data[:len(data) // 2])
    # without the strict end-marker check libpng refuses it too
    with pytest.raises(
            ImageDecodeError, match='file is truncated inside the IDAT chunk'):
        decode_image(data[:len(data) // 2], strict=False)
    assert has_end_marker(data, True)
    assert not has_end_marker(data[:-12], True)


def test_not_an_image():
    with pytest.raises(ImageDecodeError, match='^file is empty$'):
        decode_image(b'')
    with pytest.raises(
            ImageDecodeError,
            match='not a JPEG or PNG image, and OpenCV cannot '
            'decode it'):
        decode_image(b'plain text, not pixels')
    with pytest.raises(ValueError, match='flag must be one of'):
        decode_image(_read(RGB), 'colour')
    with pytest.raises(ValueError, match='scale must be one of'):
        decode_image(_read(RGB), scale=3)
    with pytest.raises(ValueError, match="not 'unchanged'"):
        decode_image(_read(RGB), 'unchanged', scale=2)
