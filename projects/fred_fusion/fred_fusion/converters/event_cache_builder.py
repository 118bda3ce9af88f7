"""Building the lossless event-frame cache (see
:mod:`..datasets.event_cache` for the format).

Every frame of at most three colours is encoded, written atomically, read
back and listed in the index only if it decodes to exactly the frame
``cv2.imread`` gives for its PNG.
"""
import glob
import json
import os
import os.path as osp
import zlib
from multiprocessing.pool import Pool
from typing import List, Optional

import numpy as np

from mmfusion.datasets import ImageDecodeError, decode_image
from mmfusion.utils.fileio import atomic_open, atomic_write_text
from ..datasets.event_cache import (CACHE_DIR, CACHE_MAGIC, CACHE_VERSION,
                                    HEADER_LEN, INDEX_FILE, INDEX_VERSION,
                                    MAX_COLOURS, cache_paths, load_cache_file,
                                    read_cache_index)
from ..datasets.fred_data_error import FREDDataError


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


def _png_stat(path: str) -> dict:
    st = os.stat(path)
    return dict(size=st.st_size, mtime_ns=st.st_mtime_ns)


def cache_event_frame(frame_path: str) -> dict:
    """Cache one event frame and check it (runs in a worker process).

    The frame is decoded strictly (as by ``LoadFREDImages``), encoded,
    written (unless the cache file already holds exactly that vector) and
    read back; it is listed only if the read-back frame equals the decoded
    PNG.

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
    try:
        with open(frame_path, 'rb') as f:
            img = decode_image(f.read())
    except (OSError, ImageDecodeError) as e:
        result.update(
            status='failed', problem=f'{frame_path}: cannot decode ({e})')
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
        with atomic_open(cache_file, 'wb') as f:
            np.save(f, data)
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
        atomic_write_text(index_path, text)
    return stats
