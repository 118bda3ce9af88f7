"""Build the lossless sparse cache of the FRED event frames.

Example::

    python tools/dataset_converters/fred_event_cache.py data/FRED

writes ``<seq>/Event/Cache/<frame>.npy`` and ``<seq>/Event/Cache/index.json``
next to every ``<seq>/Event/Frames`` folder of the root (also
``<group>/<seq>``). Every frame of at most three colours is cached and
listed only after its cache file was read back and found equal to
``cv2.imread`` of the PNG; other frames are counted as not cacheable and
stay PNG-only. A second run only handles frames whose PNG changed (size or
mtime); ``--verify`` checks every frame again. Then set ``event_cache =
True`` in the dataset config (``LoadFREDImages(event_cache=True)``).
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys

from mmengine.utils import track_iter_progress

from projects.fred_fusion.fred_fusion.converters.event_cache_builder import (
    cache_sequence, find_event_frame_dirs)

_COUNTS = ('frames', 'cached', 'not_cacheable', 'failed', 'up_to_date',
           'written', 'removed', 'png_bytes', 'cache_bytes')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cache FRED event frames losslessly as sparse .npy files')
    parser.add_argument('root', help='FRED data root')
    parser.add_argument(
        '--workers',
        type=int,
        default=os.cpu_count() or 1,
        help='worker processes (default: all cores)')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='decode and compare every frame again, also those whose PNG '
        'did not change')
    return parser.parse_args(argv)


def _mib(num_bytes: int) -> str:
    return f'{num_bytes / 2**20:.1f} MiB'


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.root):
        print(
            f'error: {args.root}: data root does not exist or is not a '
            'folder',
            file=sys.stderr)
        return 1
    frame_dirs = find_event_frame_dirs(args.root)
    if not frame_dirs:
        print(
            f'error: {args.root}: no <seq>/Event/Frames folder found',
            file=sys.stderr)
        return 1
    total = dict.fromkeys(_COUNTS, 0)
    problems = []
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    try:
        # one step per sequence, with the time left
        for frames_dir in track_iter_progress(frame_dirs, file=sys.stdout):
            stats = cache_sequence(frames_dir, args.verify, pool)
            for key in _COUNTS:
                total[key] += stats[key]
            problems += stats['problems']
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    print(f'{len(frame_dirs)} sequences, {total["frames"]} event frames: '
          f'{total["cached"]} cached, {total["not_cacheable"]} not '
          f'cacheable (more than 3 colours, read from PNG), '
          f'{total["failed"]} failed')
    print(f'{total["up_to_date"]} up to date, {total["written"]} cache '
          f'files written, {total["removed"]} removed')
    ratio = total['cache_bytes'] / max(total['png_bytes'], 1)
    print(f'cached frames: {_mib(total["png_bytes"])} PNG -> '
          f'{_mib(total["cache_bytes"])} cache ({ratio:.1%})')
    for problem in problems:
        print(f'  failed: {problem}', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
