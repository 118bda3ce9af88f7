"""Pair FRED RGB and event frames and write fusion annotation files.

Example::

    python tools/dataset_converters/fred_converter.py data/FRED \
        --split-set canonical --coords coordinates.txt --classes five

writes ``data/FRED/annotations/fred_fusion_{train,test}.json`` and
``fred_fusion_{train,test}_stats.json`` and prints the statistics. Every
split is checked before anything is written: the run lists all problems of
all splits at once (counts per kind, the first ones named) and writes
nothing, or, with ``--skip-bad``, skips and counts the bad items.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys

from projects.fred_fusion.fred_fusion.converters.fred_conversion import (
    FATAL_PROBLEMS, SPLIT_DIR, SPLIT_SETS, convert_splits, format_split_stats)
from projects.fred_fusion.fred_fusion.datasets.fred_data_error import \
    FREDDataError

#: Problems listed after the statistics of a ``--skip-bad`` run, at most.
MAX_LISTED = 20


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
        '--split-dir', help=f'split files folder (default: ROOT/{SPLIT_DIR})')
    parser.add_argument(
        '--coords',
        choices=['coordinates.txt', 'coordinates_rgb.txt'],
        default='coordinates.txt',
        help='annotation file of each sequence')
    parser.add_argument(
        '--classes',
        choices=['five', 'drone'],
        default='five',
        help='five drone models, or one class "drone" (also for the older '
        'releases, whose files have no class column)')
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
        help='skip and count bad items instead of stopping; a frame whose '
        'annotation line is refused is left out')
    parser.add_argument(
        '--workers',
        type=int,
        default=os.cpu_count() or 1,
        help='worker processes (default: all cores)')
    return parser.parse_args(argv)


def hints(error: FREDDataError, skip_bad: bool) -> list:
    """What to do about the problems of a failed run."""
    kinds = {p.kind for p in error.problems}
    lines = []
    if 'missing_class' in kinds:
        lines.append('Annotation files without a class column (older FRED '
                     'releases): rerun with --classes drone.')
    if not skip_bad and kinds - FATAL_PROBLEMS - {'missing_class'}:
        lines.append('Rerun with --skip-bad to skip and count bad items.')
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    try:
        stats = convert_splits(
            args.root,
            SPLIT_SETS[args.split_set],
            out_dir,
            args.split_dir,
            coords=args.coords,
            class_mode=args.classes,
            fusion_threshold=args.fusion_threshold,
            ann_tolerance=args.ann_tolerance,
            box_tolerance=args.box_tolerance,
            skip_bad=args.skip_bad,
            pool=pool,
            progress=True)
    except FREDDataError as e:
        print(
            '\n'.join([f'error: {e}', 'Nothing was written.'] +
                      hints(e, args.skip_bad)),
            file=sys.stderr)
        return 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    for split, split_stats in stats.items():
        print(format_split_stats(split_stats))
        problems = split_stats['problems']
        for problem in problems[:MAX_LISTED]:
            print(f'  skipped: {problem}')
        if len(problems) > MAX_LISTED:
            print(f'  ... and {len(problems) - MAX_LISTED} more skipped')
        print(f'  -> {osp.join(out_dir, f"fred_fusion_{split}.json")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
