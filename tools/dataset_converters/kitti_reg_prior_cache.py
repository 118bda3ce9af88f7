"""Compute the LiDAR registration priors of KITTI sequences once.

Examples::

    python tools/dataset_converters/kitti_reg_prior_cache.py \
        data/kitti_odometry --nproc 8
    # the registration settings of a config's OdomScanRegistration
    python tools/dataset_converters/kitti_reg_prior_cache.py \
        data/kitti_sample --config configs/trimodal_odom/CONFIG.py
    # other registration settings (also set them in the pipeline's
    # OdomScanRegistration, which refuses priors of other settings)
    python tools/dataset_converters/kitti_reg_prior_cache.py \
        data/kitti_sample --reg-cfg downsample=0.4 --force

Reads ``ROOT/INFO_DIR/kitti_odom_infos_XX.pkl`` (written by
``kitti_odom_converter.py``) and writes ``OUT/kitti_reg_priors_XX.npz`` per
sequence (``OUT`` defaults to the info folder), showing progress per
sequence with the time left; sequences whose cache is up to date are
skipped. Set ``prior_cache`` of ``OdomScanRegistration`` to that folder
(the ``*-icp`` configs do). Format and checks:
``projects/trimodal_odom/trimodal_odom/datasets/reg_prior_cache.py``.
"""
import argparse
import sys

from mmengine.config import DictAction
from mmengine.logging import print_log

from projects.trimodal_odom.trimodal_odom.converters import (
    build_reg_prior_cache, registration_cfg_from_config)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cache the LiDAR registration priors of KITTI pairs')
    parser.add_argument('root', help='KITTI odometry root')
    parser.add_argument(
        '--sequences',
        help='sequences, e.g. 00,01 (default: every one with an info file)')
    parser.add_argument(
        '--info-dir',
        default='infos',
        help='folder of the info files, relative to ROOT (default: infos)')
    parser.add_argument(
        '--out-dir', help='output folder (default: the info folder)')
    parser.add_argument(
        '--pts-root', help='root of the infos\' lidar paths (default: ROOT)')
    parser.add_argument(
        '--frame-gap',
        type=int,
        default=1,
        help='k of the pairs (t, t + k) (default: 1)')
    parser.add_argument(
        '--nproc',
        type=int,
        default=1,
        help='worker processes, one core each (default: 1)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='recompute sequences whose cache is up to date')
    settings = parser.add_mutually_exclusive_group()
    settings.add_argument(
        '--config',
        help='take the registration settings from the OdomScanRegistration '
        'of this config (the one that will read the cache)')
    settings.add_argument(
        '--reg-cfg',
        nargs='+',
        action=DictAction,
        default={},
        help='ScanRegistration settings, e.g. downsample=0.4 '
        'voxel_sizes=3.0,0.8 (default: its defaults)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        reg_cfg = (
            registration_cfg_from_config(args.config)
            if args.config else args.reg_cfg)
        print_log(
            f'registration settings: {reg_cfg or "the defaults"}',
            logger='current')
        written = build_reg_prior_cache(
            args.root,
            sequences=args.sequences,
            info_dir=args.info_dir,
            out_dir=args.out_dir,
            pts_root=args.pts_root,
            frame_gap=args.frame_gap,
            nproc=args.nproc,
            force=args.force,
            **reg_cfg)
    except (KittiFormatError, ValueError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print_log(f'wrote {len(written)} files', logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
