"""Read JPEG / PNG sizes from the file headers, without decoding pixels."""
import os
import struct
from typing import Tuple, Union

from ..datasets.fred_data_error import DataProblem
from ..datasets.image_end_marker import has_end_marker

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# JPEG start-of-frame markers carry the size (DHT, JPG and DAC excluded).
_SOF_MARKERS = {
    0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
    0xCF
}


def _jpeg_size(f, path: str) -> Tuple[int, int]:
    if f.read(2) != b'\xff\xd8':
        raise ValueError('not a JPEG file (no SOI marker)')
    while True:
        byte = f.read(1)
        while byte == b'\xff':
            marker = f.read(1)
            if marker != b'\xff':
                break
        else:
            raise ValueError('truncated or corrupt JPEG header')
        if not marker:
            raise ValueError('truncated JPEG header')
        code = marker[0]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
            continue
        length_bytes = f.read(2)
        if len(length_bytes) != 2:
            raise ValueError('truncated JPEG header')
        length = struct.unpack('>H', length_bytes)[0]
        if code in _SOF_MARKERS:
            data = f.read(5)
            if len(data) != 5:
                raise ValueError('truncated JPEG frame header')
            h, w = struct.unpack('>HH', data[1:5])
            return w, h
        f.seek(length - 2, os.SEEK_CUR)


def _png_size(f, path: str) -> Tuple[int, int]:
    head = f.read(24)
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b'IHDR':
        raise ValueError('not a PNG file (bad signature or IHDR)')
    return struct.unpack('>II', head[16:24])


def probe_image(
    path: str
) -> Union[Tuple[Tuple[int, int], None], Tuple[None, DataProblem]]:
    """Read the size of a JPEG or PNG file and check it is complete.

    Only the header and the last bytes are read: the size comes from the
    JPEG start-of-frame / PNG ``IHDR`` header, completeness from the JPEG
    end-of-image marker / PNG ``IEND`` chunk at the end of the file. This
    is thousands of times cheaper than decoding, catches missing, empty,
    truncated and non-image files, but not corrupt bytes in the middle of
    the compressed data (those fail when the frame is decoded, with the
    file named).

    Args:
        path (str): Path of a ``.jpg`` / ``.jpeg`` / ``.png`` file.

    Returns:
        tuple: ``((W, H), None)`` for a good file, ``(None, problem)``
        otherwise, the problem's kind being ``'missing_frame'`` or
        ``'unreadable_frame'``.
    """
    try:
        size_bytes = os.path.getsize(path)
    except OSError:
        return None, DataProblem('missing_frame', path, 'file does not exist')
    if size_bytes == 0:
        return None, DataProblem('unreadable_frame', path, 'file is empty')
    is_png = path.lower().endswith('.png')
    try:
        with open(path, 'rb') as f:
            w, h = _png_size(f, path) if is_png else _jpeg_size(f, path)
            f.seek(max(size_bytes - 32, 0))
            tail = f.read()
    except (OSError, ValueError, struct.error) as e:
        return None, DataProblem('unreadable_frame', path, str(e))
    if not has_end_marker(tail, is_png):
        return None, DataProblem(
            'unreadable_frame', path, 'file is truncated (no end marker), '
            f'{size_bytes} bytes')
    if w <= 0 or h <= 0:
        return None, DataProblem('unreadable_frame', path,
                                 f'invalid size {w}x{h} in the header')
    return (w, h), None
