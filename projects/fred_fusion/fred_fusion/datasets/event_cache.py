"""Lossless sparse cache of FRED event frames: the format and its reader.

FRED event frames are PNGs of at most three colours: a background and the
ON / OFF event colours. Decoding one is mostly zlib inflate (~8 ms for
1280x720). The cache stores such a frame as its palette and the flat pixel
indices of each non-background colour, in one ``.npy`` file per frame,
which loads in well under a millisecond and rebuilds exactly the array
``cv2.imread`` gives for the PNG.

Layout, next to the frames of every sequence::

    <seq>/Event/Frames/Video_<seq>_<us>.png    # the frames
    <seq>/Event/Cache/Video_<seq>_<us>.npy     # one per cached frame
    <seq>/Event/Cache/index.json               # what the cache holds

The cache is built by :mod:`..converters.event_cache_builder`
(``tools/dataset_converters/fred_event_cache.py``); ``index.json``::

    {"version": 1,
     "cached": {"<png name>": {"size": int, "mtime_ns": int,
                                "cache_size": int}, ...},
     "not_cacheable": {"<png name>": {"size": int, "mtime_ns": int,
                                       "colours": int}, ...}}

``size`` and ``mtime_ns`` are those of the PNG when it was cached. A frame
that is not under ``"cached"`` (more than three colours, or added after the
cache was built) is read from its PNG. A frame listed there whose ``.npy``
is missing or corrupt, or whose PNG changed since, is an error naming the
file.

A cache file is a flat ``uint32`` vector: a header of ``HEADER_LEN`` words
(magic, version, H, W, number of colours, three palette slots, two counts,
CRC-32 of the indices) followed by the sorted flat indices of colour 1,
then those of colour 2. Palette entries are packed ``B | G << 8 | R << 16``;
entry 0 is the background (the most frequent colour).
"""
import json
import os
import os.path as osp
import zlib
from typing import Dict, Optional, Tuple

import numpy as np

from .fred_data_error import DataProblem, FREDDataError

#: ``b'FEVC'`` read as a little-endian uint32.
CACHE_MAGIC = 0x43564546
CACHE_VERSION = 1
#: Words before the indices: magic, version, H, W, number of colours,
#: palette (3), counts of colours 1 and 2, CRC-32 of the indices.
HEADER_LEN = 11
#: Most colours a cached frame may have.
MAX_COLOURS = 3
#: Folder of the cache, a sibling of the frames folder.
CACHE_DIR = 'Cache'
#: Name of the index file in the cache folder.
INDEX_FILE = 'index.json'
INDEX_VERSION = 1


def _unpack(colour: int) -> Tuple[int, int, int]:
    """BGR triple of a packed colour."""
    return colour & 0xFF, (colour >> 8) & 0xFF, (colour >> 16) & 0xFF


def decode_event_frame(data: np.ndarray, path: str = '?') -> np.ndarray:
    """Rebuild the event frame of a cache vector.

    Args:
        data (np.ndarray): Cache vector from :func:`encode_event_frame`.
        path (str): File the vector was read from, named in errors.

    Returns:
        np.ndarray: BGR image of shape (H, W, 3), uint8.
    """

    def corrupt(message: str) -> FREDDataError:
        return FREDDataError(
            [DataProblem('corrupt_event_cache', path, message)])

    if data.dtype != np.uint32 or data.ndim != 1:
        raise corrupt(f'expected a uint32 vector, got {data.dtype} '
                      f'{data.shape}')
    if data.size < HEADER_LEN or data[0] != CACHE_MAGIC:
        raise corrupt('not an event cache file (bad magic or too short)')
    if data[1] != CACHE_VERSION:
        raise corrupt(f'cache version {data[1]}, expected {CACHE_VERSION}; '
                      'rebuild the cache')
    h, w, num_colours = (int(v) for v in data[2:5])
    counts = [int(v) for v in data[8:10]]
    if not 1 <= num_colours <= MAX_COLOURS or h == 0 or w == 0 or any(
            counts[k] for k in range(num_colours - 1, 2)):
        raise corrupt(f'bad header: {h}x{w}, {num_colours} colours, '
                      f'counts {counts}')
    if data.size != HEADER_LEN + sum(counts):
        raise corrupt(f'{data.size - HEADER_LEN} indices, header says '
                      f'{sum(counts)} (truncated?)')
    body = data[HEADER_LEN:]
    if zlib.crc32(body) != data[10]:
        raise corrupt('checksum mismatch')
    row = np.empty((w, 3), np.uint8)
    row[:] = _unpack(int(data[5]))
    img = np.empty((h, w, 3), np.uint8)
    img[:] = row
    flat = img.reshape(-1)
    start = 0
    for k in range(num_colours - 1):
        idx = body[start:start + counts[k]].astype(np.intp)
        start += counts[k]
        if idx.size and idx.max() >= h * w:
            raise corrupt(f'pixel index out of a {h}x{w} frame')
        idx *= 3
        for c, value in enumerate(_unpack(int(data[6 + k]))):
            flat[idx + c] = value
    return img


def load_cache_file(path: str) -> np.ndarray:
    """Read and decode one cache file.

    Args:
        path (str): Path of the ``.npy`` file.

    Returns:
        np.ndarray: BGR image of shape (H, W, 3), uint8.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FREDDataError([
            DataProblem('missing_event_cache', path,
                        'listed in the cache index but does not exist')
        ])
    except (OSError, ValueError, EOFError) as e:
        raise FREDDataError(
            [DataProblem('corrupt_event_cache', path, f'cannot read: {e}')])
    return decode_event_frame(data, path)


def cache_paths(frame_path: str) -> Tuple[str, str]:
    """Cache folder and cache file of an event frame.

    Args:
        frame_path (str): ``.../Event/Frames/<name>.png``.

    Returns:
        tuple[str, str]: ``.../Event/Cache`` and
        ``.../Event/Cache/<name>.npy``.
    """
    frames_dir, name = osp.split(frame_path)
    cache_dir = osp.join(osp.dirname(frames_dir), CACHE_DIR)
    return cache_dir, osp.join(cache_dir, osp.splitext(name)[0] + '.npy')


def read_cache_index(cache_dir: str) -> dict:
    """Read and check the index of a cache folder.

    Args:
        cache_dir (str): The ``Event/Cache`` folder.

    Returns:
        dict: The index (see the module docstring).
    """
    path = osp.join(cache_dir, INDEX_FILE)
    try:
        with open(path) as f:
            index = json.load(f)
    except FileNotFoundError:
        raise FREDDataError([
            DataProblem(
                'missing_event_cache', path, 'no event cache index; build '
                'it with tools/dataset_converters/fred_event_cache.py')
        ])
    except (OSError, ValueError) as e:
        raise FREDDataError(
            [DataProblem('corrupt_event_cache', path, f'cannot read: {e}')])
    if not (isinstance(index, dict) and index.get('version') == INDEX_VERSION
            and isinstance(index.get('cached'), dict)
            and isinstance(index.get('not_cacheable'), dict)):
        raise FREDDataError([
            DataProblem(
                'corrupt_event_cache', path,
                f'not a version {INDEX_VERSION} event cache index; rebuild '
                'it with tools/dataset_converters/fred_event_cache.py')
        ])
    return index


class EventCacheReader:
    """Read event frames from the cache, where it holds them.

    Indexes are read once per cache folder and kept.

    Args:
        check_stale (bool): Compare size and mtime of the PNG with the
            index entry (one ``os.stat``), so that a frame changed after
            caching is an error instead of silently stale pixels. Defaults
            to True.
    """

    def __init__(self, check_stale: bool = True) -> None:
        self.check_stale = check_stale
        self._indexes: Dict[str, dict] = {}

    def load(self, frame_path: str) -> Optional[np.ndarray]:
        """Cached frame of an event PNG.

        Args:
            frame_path (str): Path of the event PNG.

        Returns:
            np.ndarray | None: BGR image of shape (H, W, 3), uint8; None
            when the cache does not hold the frame (read the PNG).
        """
        cache_dir, cache_file = cache_paths(frame_path)
        cached = self._indexes.get(cache_dir)
        if cached is None:
            cached = read_cache_index(cache_dir)['cached']
            self._indexes[cache_dir] = cached
        entry = cached.get(osp.basename(frame_path))
        if entry is None:
            return None
        if self.check_stale:
            try:
                st = os.stat(frame_path)
            except OSError as e:
                raise FREDDataError(
                    [DataProblem('missing_frame', frame_path, f'{e}')])
            if (st.st_size, st.st_mtime_ns) != (entry['size'],
                                                entry['mtime_ns']):
                raise FREDDataError([
                    DataProblem(
                        'stale_event_cache', cache_file,
                        f'{frame_path} changed after it was cached; rerun '
                        'tools/dataset_converters/fred_event_cache.py')
                ])
        return load_cache_file(cache_file)
