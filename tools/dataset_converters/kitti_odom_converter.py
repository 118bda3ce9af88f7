"""Convert KITTI odometry (+ raw OXTS IMU) into odometry info files.

Examples::

    python tools/dataset_converters/kitti_odom_converter.py \
        data/kitti_odometry --raw-root data/kitti_raw \
        --sequences 00,01,02,03,04,05,06,07,08,09,10 \
        --stats-sequences 00,01,02,03,04,05,06,07,08

    # IMU only, from the KITTI IMU files (no images or scans needed)
    python tools/dataset_converters/kitti_odom_converter.py \
        data/kitti_imu --imu-source mat --imu-only --imu-frame camera \
        --frame-period 0.1 --stats-sequences 00,01,02,04,05,06,07,08

Writes ``OUT/kitti_odom_infos_XX.pkl`` per sequence and
``OUT/imu_stats.json``; see
``projects/trimodal_odom/trimodal_odom/converters/kitti_odom_infos.py`` for
the IMU frame, resampling and time alignment.
"""
import argparse
import sys

from mmengine.logging import print_log

from projects.trimodal_odom.trimodal_odom.converters import \
    create_kitti_odom_infos
from projects.trimodal_odom.trimodal_odom.converters.imu_source_args import (
    add_imu_source_args, imu_source_kwargs)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Create KITTI odometry info files with IMU')
    parser.add_argument(
        'root', help='KITTI odometry root (sequences/, '
        'poses/)')
    parser.add_argument(
        '--raw-root', help='KITTI raw root (default: ROOT/raw)')
    parser.add_argument(
        '--sequences',
        help='sequences, e.g. 00,01,2 (default: all with poses)')
    add_imu_source_args(parser)
    parser.add_argument(
        '--stats-sequences',
        help='sequences the IMU statistics are computed on (default: all '
        'converted); use the training split')
    parser.add_argument(
        '--out-dir', help='output folder (default: ROOT/infos)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        _, written = create_kitti_odom_infos(
            args.root,
            raw_root=args.raw_root,
            sequences=args.sequences,
            out_dir=args.out_dir,
            stats_sequences=args.stats_sequences,
            **imu_source_kwargs(args))
    except (KittiFormatError, ValueError) as e:
        print(f'conversion failed, nothing written:\n{e}', file=sys.stderr)
        return 1
    print_log(f'wrote {len(written)} files', logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
