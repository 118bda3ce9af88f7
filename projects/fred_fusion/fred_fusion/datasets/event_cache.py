"""Lossless sparse cache of FRED event frames.

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

``index.json``::

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
import glob
import json
import os
import os.path as osp
import zlib
from multiprocessing.pool import Pool
from typing import Dict, List, Optional, Tuple

import cv2
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


def _pack(img: np.ndarray) -> np.ndarray:
    """Pack a BGR image (H, W, 3) uint8 into flat ``B | G << 8 | R << 16``.

    Args:
        img (np.ndarray): BGR image of shape (H, W, 3), uint8.

    Returns:
        np.ndarray: uint32 vector of shape (H * W, ).
    """
    flat = img.reshape(-1, 3)
    packed = flat[:, 0].astype(np.uint32)
    packed |= flat[:, 1].astype(np.uint32) << 8
    packed |= flat[:, 2].astype(np.uint32) << 16
    return packed


def _unpack(colour: int) -> Tuple[int, int, int]:
    """BGR triple of a packed colour."""
    return colour & 0xFF, (colour >> 8) & 0xFF, (colour >> 16) & 0xFF


def count_colours(img: np.ndarray) -> int:
    """Number of distinct colours of a BGR image.

    Args:
        img (np.ndarray): BGR image of shape (H, W, 3), uint8.

    Returns:
        int: The number of distinct (B, G, R) triples.
    """
    return len(np.unique(_pack(img)))


def encode_event_frame(img: np.ndarray) -> Optional[np.ndarray]:
    """Encode an event frame of at most three colours.

    Args:
        img (np.ndarray): BGR image of shape (H, W, 3), uint8.

    Returns:
        np.ndarray | None: The cache vector (uint32, shape
        ``(HEADER_LEN + number of non-background pixels, )``), None when
        the frame has more than three colours.
    """
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError('expected a (H, W, 3) uint8 image, got '
                         f'{img.shape} {img.dtype}')
    h, w = img.shape[:2]
    packed = _pack(img)
    # Up to three colours in three linear passes (np.unique sorts).
    colours, rest = [], packed
    while rest.size:
        if len(colours) == MAX_COLOURS:
            return None
        colours.append(int(rest[0]))
        rest = rest[rest != rest[0]]
    masks = [packed == c for c in colours]
    counts = [int(np.count_nonzero(m)) for m in masks]
    order = sorted(range(len(colours)), key=lambda i: -counts[i])
    background = colours[order[0]]
    indices = [np.flatnonzero(masks[i]).astype(np.uint32) for i in order[1:]]
    header = np.zeros(HEADER_LEN, np.uint32)
    header[:5] = CACHE_MAGIC, CACHE_VERSION, h, w, len(colours)
    header[5] = background
    for k, i in enumerate(order[1:]):
        header[6 + k] = colours[i]
        header[8 + k] = counts[i]
    body = np.concatenate([np.zeros(0, np.uint32)] + indices)
    header[10] = zlib.crc32(body)
    return np.concatenate([header, body])


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


def _png_stat(path: str) -> dict:
    st = os.stat(path)
    return dict(size=st.st_size, mtime_ns=st.st_mtime_ns)


def cache_event_frame(frame_path: str) -> dict:
    """Cache one event frame and check it (runs in a worker process).

    The frame is decoded with ``cv2.imread``, encoded, written (unless the
    cache file already holds exactly that vector) and read back; it is
    listed only if the read-back frame equals the decoded PNG.

    Args:
        frame_path (str): Path of the event PNG.

    Returns:
        dict: ``name``, ``status`` (``'cached'``, ``'not_cacheable'`` or
        ``'failed'``), ``written`` (bool), ``entry`` (the index entry, None
        for ``'failed'``) and ``problem`` (str, for ``'failed'``).
    """
    name = osp.basename(frame_path)
    _, cache_file = cache_paths(frame_path)
    result = dict(name=name, written=False, entry=None, problem='')
    stat = _png_stat(frame_path)
    img = cv2.imread(frame_path, cv2.IMREAD_COLOR)
    if img is None:
        result.update(
            status='failed',
            problem=f'{frame_path}: cannot decode (empty, truncated or not '
            'an image)')
        return result
    data = encode_event_frame(img)
    if data is None:
        result.update(
            status='not_cacheable',
            entry=dict(stat, colours=count_colours(img)))
        return result
    try:
        old = np.load(cache_file, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        old = None
    if old is None or not np.array_equal(old, data):
        tmp = f'{cache_file}.tmp{os.getpid()}.npy'
        np.save(tmp, data)
        os.replace(tmp, cache_file)
        result['written'] = True
    try:
        same = np.array_equal(load_cache_file(cache_file), img)
    except FREDDataError as e:
        same, result['problem'] = False, str(e)
    if not same:
        result.update(
            status='failed',
            problem=result['problem']
            or f'{cache_file}: decodes differently from {frame_path}')
        return result
    result.update(
        status='cached', entry=dict(stat, cache_size=osp.getsize(cache_file)))
    return result


def find_event_frame_dirs(root: str) -> List[str]:
    """Event frame folders of a FRED root.

    Args:
        root (str): Data root, holding ``<seq>/Event/Frames`` or
            ``<group>/<seq>/Event/Frames``.

    Returns:
        list[str]: The ``Event/Frames`` folders, sorted.
    """
    found = set()
    for depth in ('*', osp.join('*', '*')):
        found.update(glob.glob(osp.join(root, depth, 'Event', 'Frames')))
    return sorted(d for d in found if osp.isdir(d))


def _up_to_date(entry: Optional[dict], stat: dict,
                cache_file: Optional[str]) -> bool:
    if entry is None or (entry.get('size'),
                         entry.get('mtime_ns')) != (stat['size'],
                                                    stat['mtime_ns']):
        return False
    return cache_file is None or (osp.isfile(cache_file)
                                  and osp.getsize(cache_file)
                                  == entry.get('cache_size'))


def cache_sequence(frames_dir: str,
                   verify: bool = False,
                   pool: Optional[Pool] = None) -> dict:
    """Build or update the cache of one ``Event/Frames`` folder.

    Frames whose PNG has the size and mtime recorded in the index (and
    whose cache file has its recorded size) are kept as they are, unless
    ``verify``; the others go through :func:`cache_event_frame`. Cache
    files of frames no longer listed are removed; the index is rewritten
    only when it changes.

    Args:
        frames_dir (str): The ``Event/Frames`` folder.
        verify (bool): Decode every frame and its cache file again, also
            those that look up to date. Defaults to False.
        pool (multiprocessing.Pool, optional): Worker processes. Defaults
            to None (this process).

    Returns:
        dict: ``frames``, ``cached``, ``not_cacheable``, ``failed``,
        ``up_to_date``, ``written``, ``removed`` (counts), ``png_bytes``
        and ``cache_bytes`` (of the cached frames) and ``problems`` (list
        of str).
    """
    cache_dir = osp.join(osp.dirname(frames_dir), CACHE_DIR)
    os.makedirs(cache_dir, exist_ok=True)
    index_path = osp.join(cache_dir, INDEX_FILE)
    try:
        old = read_cache_index(cache_dir)
    except FREDDataError:
        old = dict(cached={}, not_cacheable={})
    stats = dict(
        frames=0,
        cached=0,
        not_cacheable=0,
        failed=0,
        up_to_date=0,
        written=0,
        removed=0,
        png_bytes=0,
        cache_bytes=0,
        problems=[])
    index = dict(version=INDEX_VERSION, cached={}, not_cacheable={})
    todo = []
    for name in sorted(os.listdir(frames_dir)):
        if not name.lower().endswith('.png'):
            continue
        stats['frames'] += 1
        path = osp.join(frames_dir, name)
        stat = _png_stat(path)
        cached = old['cached'].get(name)
        if not verify and _up_to_date(cached, stat, cache_paths(path)[1]):
            index['cached'][name] = cached
        elif not verify and _up_to_date(old['not_cacheable'].get(name), stat,
                                        None):
            index['not_cacheable'][name] = old['not_cacheable'][name]
        else:
            todo.append(path)
            continue
        stats['up_to_date'] += 1
    results = (
        pool.imap(cache_event_frame, todo, chunksize=4)
        if pool is not None else map(cache_event_frame, todo))
    for result in results:
        stats['written'] += result['written']
        if result['status'] == 'failed':
            stats['failed'] += 1
            stats['problems'].append(result['problem'])
        else:
            index[result['status']][result['name']] = result['entry']
    for key in ('cached', 'not_cacheable'):
        index[key] = dict(sorted(index[key].items()))
        stats[key] = len(index[key])
    for entry in index['cached'].values():
        stats['png_bytes'] += entry['size']
        stats['cache_bytes'] += entry['cache_size']
    listed = {osp.splitext(name)[0] + '.npy' for name in index['cached']}
    for name in os.listdir(cache_dir):
        if name.endswith('.npy') and name not in listed:
            os.remove(osp.join(cache_dir, name))
            stats['removed'] += 1
    text = json.dumps(index, indent=1) + '\n'
    try:
        with open(index_path) as f:
            unchanged = f.read() == text
    except OSError:
        unchanged = False
    if not unchanged:
        tmp = f'{index_path}.tmp{os.getpid()}'
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, index_path)
    return stats
