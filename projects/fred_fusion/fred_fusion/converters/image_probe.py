"""Size and soundness of JPEG / PNG frames."""
import io
from typing import Optional, Tuple, Union

from PIL import Image, UnidentifiedImageError

from mmfusion.datasets import ImageDecodeError, has_end_marker, verify_image
from ..datasets.fred_data_error import DataProblem


def _expected_format(path: str) -> str:
    return 'PNG' if path.lower().endswith('.png') else 'JPEG'


def _read_header(path: str, data: bytes,
                 expected: str) -> Union[Tuple[int, int], DataProblem]:
    """``(W, H)`` from the header (Pillow opens lazily: no pixel is
    decoded), or the problem."""
    try:
        with Image.open(io.BytesIO(data)) as img:
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
    """Read the size of a JPEG or PNG file and check that it decodes.

    Pillow reads the size (JPEG start-of-frame, PNG ``IHDR``) from the
    header; a file without its end marker (JPEG end-of-image, PNG ``IEND``)
    is truncated; then every byte of the compressed data is decoded
    strictly (:func:`mmfusion.datasets.verify_image`: JPEGs at 1/8 size),
    so that zeroed or garbled data fails here, as it would fail in the
    loader. docs/benchmarks.md gives the cost per frame.

    Args:
        path (str): Path of a ``.jpg`` / ``.jpeg`` / ``.png`` file.

    Returns:
        tuple: ``((W, H), None)`` for a good file, ``(None, problem)``
        otherwise, the problem's kind being ``'missing_frame'`` or
        ``'unreadable_frame'``.
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return None, DataProblem('missing_frame', path, 'file does not exist')
    if not data:
        return None, DataProblem('unreadable_frame', path, 'file is empty')
    size = _read_header(path, data, _expected_format(path))
    if isinstance(size, DataProblem):
        return None, size
    problem: Optional[DataProblem] = None
    if not has_end_marker(data, path.lower().endswith('.png')):
        problem = DataProblem(
            'unreadable_frame', path, 'file is truncated (no end marker), '
            f'{len(data)} bytes')
    elif min(size) <= 0:
        problem = DataProblem(
            'unreadable_frame', path,
            f'invalid size {size[0]}x{size[1]} in the header')
    else:
        try:
            verify_image(data)
        except ImageDecodeError as e:
            problem = DataProblem('unreadable_frame', path,
                                  f'cannot decode the image ({e})')
    return (None, problem) if problem else (size, None)
