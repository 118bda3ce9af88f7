"""Write a synthetic FRED sample (RGB + event drone sequences).

The sample is written in the released FRED layout, so that every FRED config
runs on it; see ``projects/fred_fusion/fred_fusion/testing/fred_sample.py``
for the layout, the time convention and the simulated world.

Examples::

    python tools/misc/generate_fred_sample.py data/fred_sample --preset demo
    python tools/misc/generate_fred_sample.py data/fred_tiny --preset tiny \\
        --seed 3 --manifest data/fred_tiny_manifest.json

A second run with the same settings finds the complete sample through its
``.sample_stamp.json`` and returns at once.
"""
import argparse
import json
import os
import os.path as osp
import time

from projects.fred_fusion.fred_fusion.testing.stamps import complete_sample


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a synthetic FRED sample in the released layout')
    parser.add_argument('root', help='directory to write the sample into')
    parser.add_argument(
        '--preset',
        default='tiny',
        choices=['tiny', 'demo', 'large'],
        help='sample size: tiny (tests), demo (CPU training), large '
        '(1280x720 benchmarks)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--num-sequences', type=int, help='override the number of sequences')
    parser.add_argument(
        '--num-frames', type=int, help='override the RGB frames a sequence')
    parser.add_argument(
        '--num-test',
        type=int,
        help='override how many of the sequences form the test split')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='override the image size')
    parser.add_argument(
        '--manifest',
        help='also write the manifest (what the files hold) to this JSON '
        'file, outside the sample')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    overrides = {}
    if args.num_sequences is not None:
        overrides['num_sequences'] = args.num_sequences
    if args.num_frames is not None:
        overrides['num_frames'] = args.num_frames
    if args.num_test is not None:
        overrides['num_test'] = args.num_test
    if args.img_size is not None:
        overrides['img_size'] = list(args.img_size)

    stamp = complete_sample(args.root, args.preset, args.seed, overrides)
    if stamp is not None:
        print(f'{args.root} already holds the complete {args.preset!r} '
              f'sample of seed {args.seed} ({len(stamp["sequences"])} '
              'sequences); nothing to do')
        if args.manifest:
            from projects.fred_fusion.fred_fusion.testing import \
                build_fred_manifest
            manifest = build_fred_manifest(args.preset, args.seed, **overrides)
    else:
        from projects.fred_fusion.fred_fusion.testing import \
            generate_fred_sample
        start = time.perf_counter()
        manifest = generate_fred_sample(args.root, args.preset, args.seed,
                                        **overrides)
        seqs = manifest['sequences'].values()
        print(f'Wrote the {args.preset!r} sample of seed {args.seed} to '
              f'{args.root}: {len(seqs)} sequences, '
              f'{sum(len(s["rgb_frames"]) for s in seqs)} RGB and '
              f'{sum(len(s["event_frames"]) for s in seqs)} event frames in '
              f'{time.perf_counter() - start:.1f} s')
    if args.manifest:
        out_dir = osp.dirname(osp.abspath(args.manifest))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.manifest, 'w') as f:
            json.dump(manifest, f, indent=1)
        print(f'Manifest written to {args.manifest}')


if __name__ == '__main__':
    main()
