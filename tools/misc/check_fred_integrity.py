"""Check a FRED folder for missing, corrupt and malformed files.

Example::

    python tools/misc/check_fred_integrity.py data/FRED --split train test

Runs the checks of the converter (every frame decoded strictly, sizes of
paired frames, annotation lines, duplicated time stamps, missing folders)
without writing anything, and lists every problem with file and line.
Exit status 1 when a problem is found.
"""
import argparse
import os
import os.path as osp
import sys
from multiprocessing.pool import Pool

from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    SPLIT_SETS, convert_split, read_split_file)
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
        '--split-dir',
        help='split files folder (default: ROOT/dataset_splits)')
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
    split_dir = args.split_dir or osp.join(args.root, 'dataset_splits')
    pool = Pool(args.workers) if args.workers > 1 else None
    num_problems = 0
    try:
        for split in args.split:
            try:
                seq_ids = read_split_file(
                    osp.join(split_dir, f'{split}_split.txt'))
            except FREDDataError as e:
                print(e)
                num_problems += len(e.problems)
                continue
            stats = convert_split(
                args.root,
                split,
                seq_ids,
                None,
                coords=args.coords,
                class_mode=args.classes,
                box_tolerance=args.box_tolerance,
                skip_bad=True,
                pool=pool)
            for problem in stats['problems']:
                print(problem)
            num_problems += len(stats['problems'])
            print(f'[{split}] {len(seq_ids)} sequences, {stats["frames"]} '
                  f'good frames, {len(stats["problems"])} problem(s)')
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    print('OK' if not num_problems else f'{num_problems} problem(s) found')
    return 1 if num_problems else 0


if __name__ == '__main__':
    sys.exit(main())
