"""Generate the built-in KITTI odometry sample (with raw OXTS data).

The sample follows real KITTI trajectories through a synthetic scene and
is written in the exact KITTI odometry and KITTI raw layouts, so that
every odometry config can be smoke-run without the real data. The ``hard``
presets sweep the LiDAR like an HDL-64E, drive cars through the scene and
make every sensor fail somewhere (the manifest says where; see
``projects/trimodal_odom/trimodal_odom/testing/hard_sample.py``).

Examples::

    python tools/misc/generate_kitti_sample.py data/kitti_sample
    python tools/misc/generate_kitti_sample.py data/kitti_demo \\
        --preset demo --sequences 00,09 --manifest data/kitti_demo.json
    python tools/misc/generate_kitti_sample.py data/kitti_hard --preset hard
    # trajectories from the KITTI ground truth instead of the shipped ones
    python tools/misc/generate_kitti_sample.py data/kitti_hard \\
        --preset hard --poses-root data/kitti_odometry/poses
    # OXTS with the real KITTI IMU of the same drives
    python tools/misc/generate_kitti_sample.py data/kitti_demo \\
        --preset demo --imu-source real --imu-root data/kitti_imu/imus
    # real size (1241x376 images, ~125k-point HDL-64E-like scans)
    python tools/misc/generate_kitti_sample.py data/kitti_full \\
        --preset full --num-frames 300
    # the hard sample with KITTI-size images, four sequences at a time
    python tools/misc/generate_kitti_sample.py data/kitti_hard_full \\
        --preset hard --image-size 1241 376 --nproc 4

A re-run with the same arguments finds the stamp file left by a complete
run (``ROOT/.kitti_sample.json``) and exits at once.
"""
import argparse
import json
import os.path as osp
import time
from typing import List, Optional

from projects.trimodal_odom.trimodal_odom.testing.stamps import complete_sample

PRESETS = ('tiny', 'demo', 'full', 'hard', 'hard-tiny')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a KITTI odometry + raw OXTS sample')
    parser.add_argument('root', help='odometry root to write')
    parser.add_argument(
        '--raw-root', help='root of the raw drives (default: ROOT/raw)')
    parser.add_argument(
        '--preset',
        default='tiny',
        choices=PRESETS,
        help='sample size and difficulty: tiny (tests), demo, full (real '
        'KITTI image and scan sizes), hard / hard-tiny (swept LiDAR, moving '
        'cars, sensor failures) (default: tiny)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--num-frames',
        type=int,
        help='frames of every sequence (default: the preset\'s)')
    parser.add_argument(
        '--sequences',
        help='comma-separated sequences, e.g. "00,09": among 00, 09, 10 and '
        '03 (no raw data) for tiny and demo, among the preset\'s for hard '
        '(default: the preset\'s)')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='image width and height instead of the preset\'s, e.g. 1241 '
        '376 (KITTI\'s); the cameras are scaled to it')
    parser.add_argument(
        '--nproc',
        type=int,
        default=1,
        help='hard presets: sequences written at once, one process each '
        '(the sample does not depend on it) (default: 1)')
    parser.add_argument(
        '--poses-root',
        help='hard presets: folder of KITTI ground-truth poses (XX.txt) to '
        'take the trajectories from (default: the stretches shipped with '
        'the generator)')
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
    overrides = {
        k: v
        for k, v in (('num_frames', args.num_frames),
                     ('image_size', args.image_size)) if v is not None
    }
    done = None if args.poses_root else complete_sample(
        args.root, args.preset, args.seed, raw_root, sequences, imu_root,
        overrides)
    if done is not None:
        print(f'{args.root}: sample already complete, nothing to do')
        manifest = done['manifest']
    else:
        from projects.trimodal_odom.trimodal_odom.testing import (
            HARD_PRESETS, generate_hard_sample, generate_kitti_sample)
        start = time.time()
        kwargs = dict(
            raw_root=raw_root,
            preset=args.preset,
            seed=args.seed,
            sequences=sequences,
            imu_root=imu_root,
            **overrides)
        for option, given in (('--poses-root', args.poses_root),
                              ('--nproc', args.nproc != 1)):
            if given and args.preset not in HARD_PRESETS:
                raise SystemExit(f'{option} is an option of the hard presets')
        try:
            if args.preset in HARD_PRESETS:
                manifest = generate_hard_sample(
                    args.root,
                    poses_root=args.poses_root,
                    nproc=args.nproc,
                    **kwargs)
            else:
                manifest = generate_kitti_sample(args.root, **kwargs)
        except ValueError as e:  # settings that do not fit, bad IMU files
            raise SystemExit(f'error: {e}') from None
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
