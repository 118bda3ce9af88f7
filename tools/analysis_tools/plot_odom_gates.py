"""Plot the fusion gates that a test or validation run wrote beside its
trajectories (``XX_gates.txt``), over the failure stretches of the
generated sample it ran on.

Example::

    python tools/analysis_tools/plot_odom_gates.py \\
        work_dirs/RUN/TIMESTAMP/trajectories --sample-root data/kitti_hard \\
        --out-dir docs/figures
"""
import argparse
import glob
import os
import os.path as osp
import sys

import numpy as np

from projects.trimodal_odom.trimodal_odom.evaluation.functional import \
    plot_gates
from projects.trimodal_odom.trimodal_odom.testing.stamps import \
    read_sample_stamp


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot odometry gates')
    parser.add_argument('traj_dir', help='folder with the XX_gates.txt files')
    parser.add_argument(
        '--sample-root',
        help='generated sample the run used: its manifest\'s failure '
        'stretches are shaded')
    parser.add_argument('--out-dir', help='output folder (default: traj_dir)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    files = sorted(glob.glob(osp.join(args.traj_dir, '*_gates.txt')))
    if not files:
        print(
            f'{args.traj_dir}: no *_gates.txt (a model with a gated '
            'fusion writes them at validation)',
            file=sys.stderr)
        return 1
    stamp = read_sample_stamp(args.sample_root) if args.sample_root else None
    sequences = {} if stamp is None else stamp['manifest']['sequences']
    out_dir = args.out_dir or args.traj_dir
    os.makedirs(out_dir, exist_ok=True)
    for path in files:
        seq = osp.basename(path)[:-len('_gates.txt')]
        with open(path) as f:
            modalities = f.readline().split()[2:]
        rows = np.loadtxt(path, ndmin=2)
        out = osp.join(out_dir, f'{seq}_gates.png')
        plot_gates(
            out,
            rows[:, 0],
            rows[:, 1:],
            modalities,
            sequences.get(seq, {}).get('failures', ()),
            title=f'sequence {seq}')
        print(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
