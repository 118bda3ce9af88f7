"""Size and completeness of JPEG / PNG frames without decoding pixels."""
import os
from typing import Optional, Tuple, Union

from PIL import Image, UnidentifiedImageError

from ..datasets.fred_data_error import DataProblem
from ..datasets.image_end_marker import has_end_marker


def _expected_format(path: str) -> str:
    return 'PNG' if path.lower().endswith('.png') else 'JPEG'


def _read_header(path: str,
                 expected: str) -> Union[Tuple[int, int], DataProblem]:
    """``(W, H)`` from the header (Pillow opens lazily: no pixel is
    decoded), or the problem."""
    try:
        with Image.open(path) as img:
            found, size = img.format, img.size
    except UnidentifiedImageError:
        return DataProblem('unreadable_frame', path,
                           f'not a {expected} file (no image header)')
    except (OSError, SyntaxError, ValueError) as e:
        return DataProblem('unreadable_frame', path,
                           f'truncated or corrupt {expected} header ({e})')
    if found != expected:
        return DataProblem('unreadable_frame', path,
                           f'not a {expected} file (it holds {found} data)')
    return size


def probe_image(
    path: str
) -> Union[Tuple[Tuple[int, int], None], Tuple[None, DataProblem]]:
    """Read the size of a JPEG or PNG file and check it is complete.

    Only the header and the last bytes are read: Pillow reads the size
    (JPEG start-of-frame, PNG ``IHDR``) without decoding, completeness
    comes from the JPEG end-of-image marker / PNG ``IEND`` chunk at the end
    of the file (:func:`has_end_marker`). For a 1280x720 frame this takes
    about 50-60 us against 7 ms (JPEG) to 19 ms (PNG) for decoding it, and
    catches missing, empty, truncated and non-image files, but not corrupt
    bytes in the middle of the compressed data (those fail when the frame
    is decoded, with the file named).

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
    size = _read_header(path, _expected_format(path))
    if isinstance(size, DataProblem):
        return None, size
    problem: Optional[DataProblem] = None
    with open(path, 'rb') as f:
        f.seek(max(size_bytes - 32, 0))
        complete = has_end_marker(f.read(), path.lower().endswith('.png'))
    if not complete:
        problem = DataProblem(
            'unreadable_frame', path, 'file is truncated (no end marker), '
            f'{size_bytes} bytes')
    elif min(size) <= 0:
        problem = DataProblem(
            'unreadable_frame', path,
            f'invalid size {size[0]}x{size[1]} in the header')
    return (None, problem) if problem else (size, None)
