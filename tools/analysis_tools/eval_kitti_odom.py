"""Evaluate KITTI-format trajectories against the ground truth.

Both arguments are files of the KITTI pose format (12 floats a line, one
line a frame) or folders of such files named by sequence (``00.txt``,
``09.txt``, ...).  Prints the KITTI devkit's errors (t_rel in %, r_rel in
deg / 100 m, for every segment length 100 .. 800 m and their mean), ATE
after SE(3) and Sim(3) Umeyama alignment and RPE, per sequence and over all
sequences (segment errors pooled, ATE and RPE averaged).

Examples::

    python tools/analysis_tools/eval_kitti_odom.py \\
        data/kitti_odometry/poses/00.txt results/00.txt
    python tools/analysis_tools/eval_kitti_odom.py \\
        data/kitti_odometry/poses results/ --sequences 09,10 \\
        --out-dir results/eval --json results/eval/metrics.json

``--out-dir`` writes ``XX_traj.png`` (top view, ground truth and
estimate) and ``segment_errors.png`` (errors per segment length).  The
command imports the metric's array code (``evaluation.functional``) and the
pose reader, not torch or the models (matplotlib only for the plots).
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Tuple

from terminaltables import AsciiTable

from projects.trimodal_odom.trimodal_odom.evaluation.functional import (
    KITTI_LENGTHS, combine_sequences, evaluate_trajectory, plot_segment_errors,
    plot_trajectories)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (kitti_error,
                                                                 load_poses)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='KITTI odometry metrics of trajectory files')
    parser.add_argument('gt', help='ground-truth file or folder (XX.txt)')
    parser.add_argument('est', help='estimate file or folder (XX.txt)')
    parser.add_argument(
        '--sequences',
        help='sequences to evaluate in folder mode, e.g. 09,10 (default: '
        'every XX.txt of the estimate folder)')
    parser.add_argument(
        '--out-dir', help='write trajectory and error-per-length plots here')
    parser.add_argument('--json', help='write the metrics to this JSON file')
    parser.add_argument(
        '--step-size',
        type=int,
        default=10,
        help='frames between first frames of segments (default: 10, the '
        'devkit\'s)')
    parser.add_argument(
        '--rpe-delta',
        type=int,
        default=1,
        help='frame delta of the RPE (default: 1)')
    return parser.parse_args()


def trajectory_pairs(gt: str,
                     est: str,
                     sequences: Optional[str] = None
                     ) -> List[Tuple[str, str, str]]:
    """The (sequence, ground-truth file, estimate file) to evaluate.

    Raises:
        FileNotFoundError: If an argument or a sequence's file is missing.
        ValueError: If a file and a folder are mixed or a name is not a
            sequence.
    """
    for path in (gt, est):
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: file or folder not found')
    if osp.isfile(gt) and osp.isfile(est):
        return [(osp.splitext(osp.basename(gt))[0], gt, est)]
    if not (osp.isdir(gt) and osp.isdir(est)):
        raise ValueError(f'{gt} and {est}: give two files or two folders')
    if sequences is None:
        seqs = sorted(name[:-4] for name in os.listdir(est)
                      if re.fullmatch(r'\d+\.txt', name))
        if not seqs:
            raise FileNotFoundError(
                f'{est}: no sequence files (XX.txt) in the folder')
    else:
        seqs = [s.strip() for s in sequences.split(',') if s.strip()]
        bad = [s for s in seqs if not s.isdigit()]
        if bad or not seqs:
            raise ValueError(f'--sequences: expected numbers such as '
                             f'09,10, got {sequences!r}')
        seqs = [f'{int(s):02d}' for s in seqs]
    pairs = []
    for seq in seqs:
        files = [osp.join(folder, f'{seq}.txt') for folder in (gt, est)]
        for path in files:
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{path}: file of sequence {seq} not found')
        pairs.append((seq, *files))
    return pairs


def evaluate(pairs: List[Tuple[str, str, str]], step_size: int,
             rpe_delta: int) -> Tuple[Dict[str, dict], dict]:
    """Read and evaluate every pair.

    Returns:
        tuple[dict, dict]: Per sequence the metrics and the trajectories
        (``gt``, ``est`` (N, 4, 4)); the metrics over all sequences.
    """
    per_seq, errors = {}, []
    for seq, gt_path, est_path in pairs:
        gt, est = load_poses(gt_path), load_poses(est_path)
        if len(gt) != len(est):
            raise kitti_error(
                'count_mismatch', est_path,
                f'{len(est)} poses but the ground truth {gt_path} has '
                f'{len(gt)}; an estimate needs one pose per frame')
        seq_errors, res = evaluate_trajectory(
            gt, est, step_size=step_size, rpe_delta=rpe_delta)
        errors.append(seq_errors)
        per_seq[seq] = dict(
            metrics=res, gt=gt, est=est, files=(gt_path, est_path))
    total = combine_sequences(errors, [r['metrics'] for r in per_seq.values()])
    return per_seq, total


def format_tables(per_seq: Dict[str, dict], total: dict) -> str:
    """The devkit table (t_rel / r_rel by segment length) and the summary
    table (means, ATE, RPE), one row per sequence and one for all."""
    rows = [(seq, r['metrics']) for seq, r in per_seq.items()]
    if len(rows) > 1:
        rows.append(('all', total))

    def cell(res: dict, suffix: str) -> str:
        if f't_rel{suffix}' not in res or res[f't_rel{suffix}'] != \
                res[f't_rel{suffix}']:  # absent or NaN: no segment
            return '-'
        return f'{res[f"t_rel{suffix}"]:.3f} / {res[f"r_rel{suffix}"]:.3f}'

    lengths = [int(length) for length in KITTI_LENGTHS]
    devkit = [['seq'] + [f'{length} m' for length in lengths] + ['mean']]
    for seq, res in rows:
        devkit.append([seq] + [cell(res, f'_{length}')
                               for length in lengths] + [cell(res, '')])
    summary = [[
        'seq', 't_rel (%)', 'r_rel (deg/100m)', 'ATE (m)', 'ATE sim3 (m)',
        'RPE t (m)', 'RPE r (deg)', 'segments'
    ]]
    for seq, res in rows:
        summary.append([
            seq, f'{res["t_rel"]:.3f}', f'{res["r_rel"]:.3f}',
            f'{res["ate"]:.3f}', f'{res["ate_sim3"]:.3f}',
            f'{res["rpe_t"]:.4f}', f'{res["rpe_r"]:.4f}',
            str(int(res['num_segments']))
        ])
    return (AsciiTable(
        devkit, 'KITTI errors: t_rel (%) / r_rel '
        '(deg/100m) by segment length').table + '\n' +
            AsciiTable(summary, 'summary').table)


def save_plots(out_dir: str, per_seq: Dict[str, dict], total: dict) -> None:
    """Write ``XX_traj.png`` per sequence and ``segment_errors.png``."""
    os.makedirs(out_dir, exist_ok=True)
    for seq, r in per_seq.items():
        plot_trajectories(
            osp.join(out_dir, f'{seq}_traj.png'),
            r['gt'], {'estimate': r['est']},
            title=f'sequence {seq}: t_rel {r["metrics"]["t_rel"]:.2f} %, '
            f'r_rel {r["metrics"]["r_rel"]:.2f} deg/100m')
    summaries = {seq: r['metrics'] for seq, r in per_seq.items()}
    if len(per_seq) > 1:
        summaries['all'] = total
    plot_segment_errors(osp.join(out_dir, 'segment_errors.png'), summaries)


def to_json(per_seq: Dict[str, dict], total: dict, args) -> dict:
    """The metrics as plain JSON values (NaN as null)."""

    def clean(res: dict) -> dict:
        return {k: (None if v != v else float(v)) for k, v in res.items()}

    return dict(
        gt=args.gt,
        est=args.est,
        step_size=args.step_size,
        rpe_delta=args.rpe_delta,
        sequences={
            seq:
            dict(clean(r['metrics']), gt=r['files'][0], est=r['files'][1])
            for seq, r in per_seq.items()
        },
        all=clean(total))


def main() -> int:
    args = parse_args()
    try:
        pairs = trajectory_pairs(args.gt, args.est, args.sequences)
        per_seq, total = evaluate(pairs, args.step_size, args.rpe_delta)
    except (OSError, ValueError) as e:  # KittiFormatError is a ValueError
        print(f'evaluation failed:\n{e}', file=sys.stderr)
        return 1
    print(format_tables(per_seq, total))
    if args.out_dir:
        save_plots(args.out_dir, per_seq, total)
        print(f'plots written to {args.out_dir}')
    if args.json:
        if osp.dirname(args.json):
            os.makedirs(osp.dirname(args.json), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(to_json(per_seq, total, args), f, indent=2)
        print(f'metrics written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
