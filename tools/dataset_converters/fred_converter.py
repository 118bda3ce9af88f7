"""Pair FRED RGB and event frames and write fusion annotation files.

Example::

    python tools/dataset_converters/fred_converter.py data/FRED \
        --split-set canonical --coords coordinates.txt --classes five

writes ``data/FRED/annotations/fred_fusion_{train,test}.json`` and
``fred_fusion_{train,test}_stats.json`` and prints the statistics.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys

from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    SPLIT_SETS, convert_split, format_split_stats, read_split_file)
from projects.fred_fusion.fred_fusion.datasets.fred_data_error import \
    FREDDataError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Pair FRED RGB / event frames into fusion annotation '
        'files (mmengine BaseDataset format)')
    parser.add_argument('root', help='FRED data root')
    parser.add_argument(
        '--out-dir', help='output folder (default: ROOT/annotations)')
    parser.add_argument(
        '--split-set',
        choices=sorted(SPLIT_SETS),
        default='canonical',
        help='canonical (train/test) or challenging splits')
    parser.add_argument(
        '--split-dir',
        help='split files folder (default: ROOT/dataset_splits)')
    parser.add_argument(
        '--coords',
        choices=['coordinates.txt', 'coordinates_rgb.txt'],
        default='coordinates.txt',
        help='annotation file of each sequence')
    parser.add_argument(
        '--classes',
        choices=['five', 'drone'],
        default='five',
        help='five drone models, or one class "drone"')
    parser.add_argument(
        '--fusion-threshold',
        type=float,
        default=0.1,
        help='largest |event time - RGB time| in seconds counted as paired')
    parser.add_argument(
        '--ann-tolerance',
        type=float,
        default=1 / 60,
        help='largest distance in seconds between a frame and its '
        'annotation time')
    parser.add_argument(
        '--box-tolerance',
        type=float,
        default=4.0,
        help='pixels a box may exceed the frame by (it is clipped)')
    parser.add_argument(
        '--skip-bad',
        action='store_true',
        help='skip and count bad items instead of stopping')
    parser.add_argument(
        '--workers',
        type=int,
        default=os.cpu_count() or 1,
        help='worker processes (default: all cores)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    split_dir = args.split_dir or osp.join(args.root, 'dataset_splits')
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    try:
        for split in SPLIT_SETS[args.split_set]:
            seq_ids = read_split_file(
                osp.join(split_dir, f'{split}_split.txt'))
            out_file = osp.join(out_dir, f'fred_fusion_{split}.json')
            stats = convert_split(
                args.root,
                split,
                seq_ids,
                out_file,
                coords=args.coords,
                class_mode=args.classes,
                fusion_threshold=args.fusion_threshold,
                ann_tolerance=args.ann_tolerance,
                box_tolerance=args.box_tolerance,
                skip_bad=args.skip_bad,
                pool=pool)
            print(format_split_stats(stats))
            for problem in stats['problems']:
                print(f'  skipped: {problem}')
            print(f'  -> {out_file}')
    except FREDDataError as e:
        print(
            f'error: {e}\nRerun with --skip-bad to skip and count bad '
            'items.',
            file=sys.stderr)
        return 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return 0


if __name__ == '__main__':
    sys.exit(main())
