"""Decoding of JPEG and PNG files that refuses damaged data.

OpenCV's JPEG decoder (libjpeg) treats damaged entropy-coded data as a
warning: ``cv2.imdecode`` prints ``Corrupt JPEG data: premature end of data
segment`` to stderr and returns an image with grey or smeared blocks.
:func:`decode_image` decodes JPEGs with ``simplejpeg`` (libjpeg-turbo) in
its strict mode, which raises on those warnings, and gives pixels
bit-identical to ``cv2.imdecode`` (both use libjpeg-turbo with the same
settings), at full size or reduced in the DCT domain
(``cv2.IMREAD_REDUCED_*``). PNGs and other formats go through
``cv2.imdecode``: libpng already refuses PNGs with a bad chunk CRC, damaged
zlib data or missing image data; the strict mode also refuses PNGs without
their ``IEND`` chunk. When decoding fails, the message says why (truncated,
CRC error in which chunk, corrupt compressed data, ...).

Not detected: damage that leaves a valid stream, e.g. a flipped bit inside
JPEG Huffman data that still decodes (JPEG has no checksum), or a PNG
rewritten with matching CRCs.
"""
import struct
import zlib
from typing import Optional

import cv2
import numpy as np
import simplejpeg

#: Reduction factors :func:`decode_image` accepts (libjpeg's DCT scaling).
SCALES = (1, 2, 4, 8)

#: ``cv2.imread`` flags of the colour types, as in ``mmcv.imfrombytes``.
_CV2_FLAGS = dict(
    color=cv2.IMREAD_COLOR,
    grayscale=cv2.IMREAD_GRAYSCALE,
    unchanged=cv2.IMREAD_UNCHANGED,
    color_ignore_orientation=cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_COLOR,
    grayscale_ignore_orientation=cv2.IMREAD_IGNORE_ORIENTATION
    | cv2.IMREAD_GRAYSCALE)
#: Bits that turn a colour / grayscale flag into ``IMREAD_REDUCED_*_<s>``.
_CV2_REDUCED = {1: 0, 2: 16, 4: 32, 8: 64}
_JPEG_MAGIC = b'\xff\xd8\xff'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


class ImageDecodeError(ValueError):
    """Bytes that do not decode to an image; the message says why.

    The message does not name a file: callers add the path (and their
    dataset's error type).
    """


def has_end_marker(data: bytes, is_png: bool) -> bool:
    """Whether the last bytes of an image file hold its end marker.

    A file cut short (a copy interrupted, a disk full) loses its end
    marker; decoders often still return an image, partly grey.

    Args:
        data (bytes): The file, or at least its last 12 bytes.
        is_png (bool): PNG (``IEND`` chunk) or JPEG (``FFD9`` marker).

    Returns:
        bool: False for a truncated file.
    """
    tail = data[-32:]
    return tail[-8:-4] == b'IEND' if is_png else b'\xff\xd9' in tail


def decode_image(data: bytes,
                 flag: str = 'color',
                 strict: bool = True,
                 scale: int = 1) -> np.ndarray:
    """Decode a JPEG, PNG (or other OpenCV format) file's bytes.

    The result is what ``mmcv.imfrombytes(data, flag, backend='cv2')``
    gives (BGR order), and with ``scale`` > 1 what ``cv2.imdecode`` gives
    with ``IMREAD_REDUCED_COLOR_<scale>`` / ``IMREAD_REDUCED_GRAYSCALE_
    <scale>``: JPEGs are reduced while decoding (libjpeg's DCT scaling, the
    size rounded up), which costs less than a full decode; other formats
    are decoded at full size and resized by OpenCV.

    Args:
        data (bytes): The file's content.
        flag (str): ``'color'``, ``'grayscale'``, ``'unchanged'``,
            ``'color_ignore_orientation'`` or
            ``'grayscale_ignore_orientation'``, as in ``mmcv.imfrombytes``.
            Defaults to 'color'.
        strict (bool): Refuse damaged files: JPEG data that libjpeg
            decodes only with a warning, files without their end marker.
            False decodes as ``cv2.imdecode`` does. Defaults to True.
        scale (int): Reduction factor, one of :data:`SCALES`; not with
            ``'unchanged'``. Defaults to 1.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR for the colour flags, (H, W) for
        grayscale; with ``scale`` s, ``(ceil(H / s), ceil(W / s))``.

    Raises:
        ImageDecodeError: If the data is empty, truncated or corrupt, or
            not an image; the message says which.
    """
    if flag not in _CV2_FLAGS:
        raise ValueError(
            f'flag must be one of {sorted(_CV2_FLAGS)}, got {flag!r}')
    if scale not in SCALES:
        raise ValueError(f'scale must be one of {SCALES}, got {scale!r}')
    if scale > 1 and flag == 'unchanged':
        raise ValueError("scale > 1 needs a colour or grayscale flag, not "
                         "'unchanged'")
    if not data:
        raise ImageDecodeError('file is empty')
    is_jpeg, is_png = data.startswith(_JPEG_MAGIC), data.startswith(_PNG_MAGIC)
    if strict and (is_jpeg or is_png) and not has_end_marker(data, is_png):
        raise ImageDecodeError('file is truncated (no end marker)')
    if strict and is_jpeg:
        img = _decode_jpeg_strict(data, flag, scale)
        if img is not None:
            return img
    img = cv2.imdecode(
        np.frombuffer(data, np.uint8), _CV2_FLAGS[flag] | _CV2_REDUCED[scale])
    if img is None:
        raise ImageDecodeError(_why_not_decoded(data, is_jpeg, is_png))
    return img


def verify_image(data: bytes) -> None:
    """Check that a file's bytes decode strictly, as cheaply as possible.

    Every byte of the compressed data is decoded: JPEGs at 1/8 size (the
    entropy decoding, where damage shows, is complete at any scale), other
    formats at full size.

    Args:
        data (bytes): The file's content.

    Raises:
        ImageDecodeError: If :func:`decode_image` refuses the data.
    """
    decode_image(data, scale=8 if data.startswith(_JPEG_MAGIC) else 1)


def _decode_jpeg_strict(data: bytes, flag: str,
                        scale: int) -> Optional[np.ndarray]:
    """Decode with simplejpeg in strict mode; None if the pixels must come
    from OpenCV (EXIF orientation to apply, CMYK, ``'unchanged'``), after
    the data has been checked."""
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
        gray = flag.startswith('grayscale')
        usable = (
            flag != 'unchanged' and colorspace not in ('CMYK', 'YCCK')
            and (flag.endswith('_ignore_orientation') or not _has_exif(data)))
        step = scale if usable else 8
        img = simplejpeg.decode_jpeg(
            data,
            colorspace='GRAY' if gray else 'BGR',
            min_height=-(-height // step),
            min_width=-(-width // step),
            strict=True)
    except ValueError as e:
        raise ImageDecodeError(f'libjpeg: {e}') from None
    if not usable:
        return None
    return img[..., 0] if gray else img


def _has_exif(data: bytes) -> bool:
    """Whether a JPEG has an ``APP1`` Exif segment before its scan data
    (OpenCV then applies the orientation it holds)."""
    pos = 2
    while pos + 10 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: no more headers
            return False
        if marker == 0xE1 and data[pos + 4:pos + 10] == b'Exif\0\0':
            return True
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], 'big')
    return False


def _why_not_decoded(data: bytes, is_jpeg: bool, is_png: bool) -> str:
    """Why OpenCV returned no image, for the error message."""
    if is_png:
        return _png_problem(data)
    if is_jpeg and not has_end_marker(data, False):
        return 'file is truncated (no end marker)'
    if is_jpeg:
        return 'truncated or corrupt JPEG data'
    return 'not a JPEG or PNG image, and OpenCV cannot decode it'


def _png_problem(data: bytes) -> str:
    """The first structural problem of a PNG that libpng refused."""
    pos, idat = 8, []
    while True:
        if pos + 12 > len(data):
            return 'file is truncated (no IEND chunk)'
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        end = pos + 12 + length
        name = kind.decode('latin-1')
        if end > len(data):
            return f'file is truncated inside the {name} chunk at byte {pos}'
        crc = int.from_bytes(data[end - 4:end], 'big')
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            return f'CRC error in the {name} chunk at byte {pos}'
        if kind == b'IDAT':
            idat.append(data[pos + 8:end - 4])
        if kind == b'IEND':
            break
        pos = end
    try:
        zlib.decompress(b''.join(idat))
    except zlib.error as e:
        return f'corrupt compressed image data ({e})'
    return 'corrupt image data (libpng refused it)'
