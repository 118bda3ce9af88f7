"""Check a KITTI odometry (+ raw OXTS) layout and print a report.

Examples::

    python tools/misc/check_kitti_integrity.py data/kitti_odometry \
        --raw-root data/kitti_raw --sequences 00,01 --deep
    # the poses and the KITTI IMU files only
    python tools/misc/check_kitti_integrity.py data/kitti_imu \
        --imu-source mat --imu-only --frame-period 0.1

Exit status 0 when no error is found, 1 otherwise.  Every sequence and
file is checked, also after a problem in another one, and the report lists
all problems: their number per kind, then each naming its file (and line).
"""
import argparse
import sys

from projects.trimodal_odom.trimodal_odom.converters import \
    check_kitti_integrity
from projects.trimodal_odom.trimodal_odom.converters.imu_source_args import (
    add_imu_source_args, imu_source_kwargs)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check KITTI odometry / raw files')
    parser.add_argument('root', help='KITTI odometry root')
    parser.add_argument(
        '--raw-root', help='KITTI raw root (default: ROOT/raw)')
    parser.add_argument(
        '--sequences', help='sequences (default: all with poses)')
    add_imu_source_args(parser)
    parser.add_argument(
        '--deep',
        action='store_true',
        help='also read every point cloud and check for NaN / inf')
    parser.add_argument(
        '--max-listed',
        type=int,
        default=50,
        help='errors (and warnings) listed at most, after their number per '
        'kind (default: 50)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        report, _ = check_kitti_integrity(
            args.root,
            raw_root=args.raw_root,
            sequences=args.sequences,
            deep=args.deep,
            **imu_source_kwargs(args))
    except (KittiFormatError, ValueError) as e:
        print(f'ERROR {e}')
        return 1
    print(report.format(max_lines=args.max_listed))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
