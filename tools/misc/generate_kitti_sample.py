"""Generate the built-in KITTI odometry sample (with raw OXTS data).

The sample follows real KITTI trajectories through a synthetic static scene
and is written in the exact KITTI odometry and KITTI raw layouts, so that
every odometry config can be smoke-run without the real data.

Examples::

    python tools/misc/generate_kitti_sample.py data/kitti_sample
    python tools/misc/generate_kitti_sample.py data/kitti_demo \\
        --preset demo --sequences 00,09 --manifest data/kitti_demo.json
    # OXTS with the real KITTI IMU of the same drives
    python tools/misc/generate_kitti_sample.py data/kitti_demo \\
        --preset demo --imu-source real --imu-root data/kitti_imu/imus
    # real size (1241x376 images, ~125k-point HDL-64E-like scans)
    python tools/misc/generate_kitti_sample.py data/kitti_full \\
        --preset full --num-frames 300

A re-run with the same arguments finds the stamp file left by a complete
run (``ROOT/.kitti_sample.json``) and exits at once.
"""
import argparse
import json
import os.path as osp
import time
from typing import List, Optional

from projects.trimodal_odom.trimodal_odom.testing.stamps import complete_sample


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a KITTI odometry + raw OXTS sample')
    parser.add_argument('root', help='odometry root to write')
    parser.add_argument(
        '--raw-root', help='root of the raw drives (default: ROOT/raw)')
    parser.add_argument(
        '--preset',
        default='tiny',
        choices=['tiny', 'demo', 'full'],
        help='sample size: tiny (tests), demo or full (real KITTI image and '
        'scan sizes) (default: tiny)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--num-frames',
        type=int,
        help='frames of every sequence (default: the preset\'s)')
    parser.add_argument(
        '--sequences',
        help='comma-separated sequences among 00, 09, 10 and 03 (no raw '
        'data), e.g. "00,09" (default: the preset\'s)')
    parser.add_argument(
        '--imu-source',
        choices=['synthetic', 'real'],
        default='synthetic',
        help='IMU of the OXTS files: simulated from the trajectory, or the '
        'real KITTI IMU of the same drive (--imu-root) (default: synthetic)')
    parser.add_argument(
        '--imu-root', help='folder of the real KITTI IMU files XX.mat')
    parser.add_argument('--manifest', help='also write the manifest here')
    return parser.parse_args()


def _sequences(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    try:
        return [f'{int(s):02d}' for s in text.split(',') if s.strip()]
    except ValueError:
        raise SystemExit(f'--sequences: expected numbers like "00,09", got '
                         f'{text!r}') from None


def main() -> None:
    args = parse_args()
    sequences = _sequences(args.sequences)
    raw_root = osp.abspath(args.raw_root or osp.join(args.root, 'raw'))
    if (args.imu_source == 'real') != (args.imu_root is not None):
        raise SystemExit('--imu-source real needs --imu-root, and '
                         '--imu-root only goes with --imu-source real')
    imu_root = None if args.imu_root is None else osp.abspath(args.imu_root)
    overrides = {} if args.num_frames is None else dict(
        num_frames=args.num_frames)
    done = complete_sample(args.root, args.preset, args.seed, raw_root,
                           sequences, imu_root, overrides)
    if done is not None:
        print(f'{args.root}: sample already complete, nothing to do')
        manifest = done['manifest']
    else:
        from projects.trimodal_odom.trimodal_odom.testing import \
            generate_kitti_sample
        start = time.time()
        manifest = generate_kitti_sample(
            args.root,
            raw_root=raw_root,
            preset=args.preset,
            seed=args.seed,
            sequences=sequences,
            imu_root=imu_root,
            **overrides)
        frames = {k: v['num_frames'] for k, v in manifest['sequences'].items()}
        elapsed = time.time() - start
        total = sum(frames.values())
        print(f'{args.root}: wrote sequences {frames} (raw data in '
              f'{raw_root}) in {elapsed:.1f} s, '
              f'{elapsed / total:.2f} s a frame')
    if args.manifest:
        with open(args.manifest, 'w') as f:
            json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
