"""Check a FRED folder for missing, corrupt and malformed files.

Example::

    python tools/misc/check_fred_integrity.py data/FRED --split train test

Runs the checks of the converter (data root and split files, every frame
decoded strictly, sizes of paired frames, annotation lines, duplicated
time stamps, missing folders, splits without a box) over every sequence of
every split without writing anything, then reports all problems at once:
their number per kind and the first ones with file and line. Exit status 1
when a problem is found.
"""
import argparse
import os
import sys
from multiprocessing.pool import Pool

from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    SPLIT_DIR, SPLIT_SETS, convert_splits)
from projects.fred_fusion.fred_fusion.datasets.fred_data_error import \
    FREDDataError


def parse_args(argv=None):
    all_splits = [s for splits in SPLIT_SETS.values() for s in splits]
    parser = argparse.ArgumentParser(description='Check FRED data integrity')
    parser.add_argument('root', help='FRED data root')
    parser.add_argument(
        '--split',
        nargs='+',
        choices=all_splits,
        default=list(SPLIT_SETS['canonical']),
        help='splits to check')
    parser.add_argument(
        '--split-dir', help=f'split files folder (default: ROOT/{SPLIT_DIR})')
    parser.add_argument(
        '--coords',
        choices=['coordinates.txt', 'coordinates_rgb.txt'],
        default='coordinates.txt')
    parser.add_argument('--classes', choices=['five', 'drone'], default='five')
    parser.add_argument('--box-tolerance', type=float, default=4.0)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    pool = Pool(args.workers) if args.workers > 1 else None
    try:
        stats = convert_splits(
            args.root,
            args.split,
            None,
            args.split_dir,
            coords=args.coords,
            class_mode=args.classes,
            box_tolerance=args.box_tolerance,
            pool=pool,
            progress=True)
    except FREDDataError as e:
        print(e)
        print(f'{len(e.problems)} problem(s) found')
        return 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    for split, split_stats in stats.items():
        print(f'[{split}] {split_stats["sequences"]} sequences, '
              f'{split_stats["frames"]} frames')
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
