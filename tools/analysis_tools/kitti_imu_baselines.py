"""Sensor baselines of the KITTI IMU: gyro integration and constant
velocity, evaluated with the KITTI metric.

Reads ``ROOT/poses/XX.txt`` and the KITTI IMU files (``--imu-root``,
``XX.mat``) through the converter's IMU-only mode (the windows a model
sees, in the camera-0 frame) and writes, for each baseline, KITTI-format
trajectories ``OUT/<baseline>/XX.txt`` (``tools/analysis_tools/
eval_kitti_odom.py`` evaluates them) and ``OUT/baselines.json``:

* ``constant_velocity``: every step repeats the previous ground-truth
  motion (as ``KittiOdomMetric``'s baseline);
* ``gyro``: the rotation of each step is the gyro integrated over its
  window at the file's own rate (``--frame-period`` / 10 per row);
* ``gyro_fit_dt``: the same with the time step scaled by a factor fitted
  on ``--fit-sequences`` (least squares of the per-step rotation vectors
  against the ground truth);
* ``gyro_fit_dt_offset``: the row offset of the windows (moving the IMU
  against the frames) chosen on ``--fit-sequences`` as well, then the
  time step fitted again.

The gyro baselines take the translation of each step from the ground
truth (the same step), so that their t_rel shows the effect of the
rotation alone; a step without IMU window (the last ones of a positive
offset) takes the previous ground-truth motion.

Example::

    python tools/analysis_tools/kitti_imu_baselines.py data/kitti_imu \\
        --imu-root data/kitti_imu/imus --frame-period 0.1 \\
        --fit-sequences 00,01,02,04,05,06,07,08 --sequences 09,10 \\
        --out-dir work_dirs/kitti_imu_baselines
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

import numpy as np

from projects.trimodal_odom.trimodal_odom.converters import convert_sequence
from projects.trimodal_odom.trimodal_odom.datasets.odom_info_file import \
    parse_sequences
from projects.trimodal_odom.trimodal_odom.evaluation import (
    combine_sequences, evaluate_trajectory)
from projects.trimodal_odom.trimodal_odom.evaluation.metrics import \
    constant_velocity
from projects.trimodal_odom.trimodal_odom.utils import (KittiFormatError,
                                                        compose_relative,
                                                        integrate_gyro,
                                                        kitti_error,
                                                        kitti_report,
                                                        relative_pose,
                                                        save_poses, so3_log)

BASELINES = ('constant_velocity', 'gyro', 'gyro_fit_dt', 'gyro_fit_dt_offset')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Gyro-integration and constant-velocity baselines of '
        'the KITTI IMU')
    parser.add_argument('root', help='KITTI odometry root (poses/)')
    parser.add_argument(
        '--imu-root', help='folder of the XX.mat files (default: ROOT/imus)')
    parser.add_argument(
        '--sequences', default='09,10', help='evaluated sequences')
    parser.add_argument(
        '--fit-sequences',
        default='00,01,02,04,05,06,07,08',
        help='sequences the time step and the offset are fitted on')
    parser.add_argument(
        '--frame-period',
        type=float,
        default=0.1,
        help='seconds between frames where times.txt is absent (default: '
        '0.1, the nominal 10 Hz of KITTI)')
    parser.add_argument(
        '--offsets',
        default='-2:13',
        help='row offsets searched, start:stop (default: -2:13)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    return parser.parse_args()


class ImuSequence:
    """Ground truth and IMU windows of one converted sequence."""

    def __init__(self, info: dict) -> None:
        frames = info['data_list']
        self.name = info['metainfo']['seq']
        self.poses = np.asarray([f['pose'] for f in frames])
        self.gt_rel = relative_pose(self.poses[:-1], self.poses[1:])
        times = np.asarray([f['timestamp'] for f in frames])
        # rotation vector of each window at the file's own rate (N - 1, 3);
        # NaN where there is no window
        self.phi = np.full((len(frames) - 1, 3), np.nan)
        self.windows = [f['imu'] for f in frames[:-1]]
        self.dt = np.diff(times) / 10
        for k, w in enumerate(self.windows):
            if w is not None:
                self.phi[k] = w['gyro'].sum(0) * self.dt[k]

    def gyro_rel(self, scale: float = 1.0) -> Tuple[np.ndarray, int]:
        """Relative poses: integrated gyro rotation, ground-truth
        translation; the number of steps without window."""
        rel = self.gt_rel.copy()
        cv = constant_velocity(self.gt_rel)
        missing = 0
        for k, w in enumerate(self.windows):
            if w is None:
                rel[k] = cv[k]
                missing += 1
            else:
                rel[k, :3, :3] = integrate_gyro(w['gyro'], self.dt[k] * scale)
        return rel, missing


def load(root: str, seqs: Sequence[str], imu_root: str, frame_period: float,
         offset: int) -> Dict[str, ImuSequence]:
    """Convert ``seqs`` IMU-only in the camera frame with ``offset``."""
    report = kitti_report()
    out = {}
    for seq in seqs:
        info = convert_sequence(
            root,
            seq,
            imu_source='mat',
            imu_root=imu_root,
            imu_frame='camera',
            imu_only=True,
            frame_period=frame_period,
            imu_offset=offset,
            report=report)
        report.raise_if_errors()
        imu = info['metainfo']['imu']
        if not imu['available']:
            raise kitti_error(
                'missing_imu', imu['file'],
                f'sequence {seq} has no IMU: {imu["missing_reason"]}')
        out[seq] = ImuSequence(info)
    return out


def fit_scale(seqs: List[ImuSequence]) -> Tuple[float, float]:
    """Least-squares factor ``s`` of ``log(R_gt) ~ s * phi`` over all steps
    with a window, and the residual RMS (deg) per step."""
    phi = np.concatenate([s.phi for s in seqs])
    gt = np.concatenate([so3_log(s.gt_rel[:, :3, :3]) for s in seqs])
    ok = np.isfinite(phi).all(1)
    phi, gt = phi[ok], gt[ok]
    scale = float((phi * gt).sum() / (phi * phi).sum())
    rms = float(np.degrees(np.sqrt(((gt - scale * phi)**2).sum(1).mean())))
    return scale, rms


def fit_offset(root: str, seqs: List[str], imu_root: str, frame_period: float,
               offsets: range) -> Tuple[int, dict]:
    """The row offset of the smallest residual on ``seqs``, and the fitted
    time-step factor and residual of every offset."""
    fits = {}
    for offset in offsets:
        loaded = load(root, seqs, imu_root, frame_period, offset)
        fits[offset] = fit_scale(list(loaded.values()))
        print(f'offset {offset:3d}: time-step factor {fits[offset][0]:.4f}, '
              f'residual {fits[offset][1]:.4f} deg per step')
    return min(fits, key=lambda o: fits[o][1]), fits


def evaluate_baselines(seqs: List[str], settings: dict, base: dict,
                       out_dir: str) -> Dict[str, dict]:
    """Metrics of every baseline on each of ``seqs`` and over all, and
    the trajectories ``OUT/<baseline>/XX.txt``.

    Args:
        seqs (list[str]): Evaluated sequences.
        settings (dict): Gyro baseline -> (its :class:`ImuSequence` by
            sequence, time-step factor).
        base (dict): :class:`ImuSequence` by sequence (ground truth).
        out_dir (str): Output folder.
    """
    results = {b: {} for b in BASELINES}
    errors = {b: [] for b in BASELINES}
    for seq in seqs:
        gt_rel = base[seq].gt_rel
        gt = compose_relative(np.eye(4), gt_rel)
        rels = dict(constant_velocity=constant_velocity(gt_rel))
        for name, (source, scale) in settings.items():
            rels[name], missing = source[seq].gyro_rel(scale)
            if missing:
                print(f'{name} {seq}: {missing} steps without IMU window '
                      'take the previous ground-truth motion')
        for name in BASELINES:
            est = compose_relative(np.eye(4), rels[name])
            err, results[name][seq] = evaluate_trajectory(gt, est)
            errors[name].append(err)
            os.makedirs(osp.join(out_dir, name), exist_ok=True)
            save_poses(osp.join(out_dir, name, f'{seq}.txt'), est)
    for name in BASELINES:
        results[name]['all'] = combine_sequences(
            errors[name], [results[name][s] for s in seqs])
    return results


def main() -> int:
    args = parse_args()
    imu_root = args.imu_root or osp.join(args.root, 'imus')
    fit_seqs = parse_sequences(args.fit_sequences)
    eval_seqs = parse_sequences(args.sequences)
    start, stop = (int(v) for v in args.offsets.split(':'))
    try:
        base = load(args.root, fit_seqs + eval_seqs, imu_root,
                    args.frame_period, 0)
        scale0, rms0 = fit_scale([base[s] for s in fit_seqs])
        offset, fits = fit_offset(args.root, fit_seqs, imu_root,
                                  args.frame_period, range(start, stop))
        shifted = load(args.root, eval_seqs, imu_root, args.frame_period,
                       offset)
    except KittiFormatError as e:
        print(f'failed:\n{e}', file=sys.stderr)
        return 1
    settings = dict(
        gyro=(base, 1.0),
        gyro_fit_dt=(base, scale0),
        gyro_fit_dt_offset=(shifted, fits[offset][0]))
    results = evaluate_baselines(eval_seqs, settings, base, args.out_dir)

    print(f'\nfitted on {",".join(fit_seqs)}: time-step factor {scale0:.4f} '
          f'at offset 0 (rms {rms0:.4f} deg per step); best offset '
          f'{offset} rows, factor {fits[offset][0]:.4f} (rms '
          f'{fits[offset][1]:.4f} deg)')
    print(f'{"baseline":20s} {"seq":>4s} {"t_rel %":>8s} {"r_rel":>7s} '
          f'{"ATE m":>8s}')
    for name in BASELINES:
        for seq, res in results[name].items():
            print(f'{name:20s} {seq:>4s} {res["t_rel"]:8.3f} '
                  f'{res["r_rel"]:7.3f} {res["ate"]:8.2f}')
    summary = dict(
        fit_sequences=fit_seqs,
        sequences=eval_seqs,
        frame_period=args.frame_period,
        time_step_factor=scale0,
        residual_deg=rms0,
        offset=offset,
        offset_time_step_factor=fits[offset][0],
        offset_residual_deg=fits[offset][1],
        offsets={
            str(k): list(v)
            for k, v in fits.items()
        },
        results={
            b: {
                s: {
                    k: float(v)
                    for k, v in r.items()
                }
                for s, r in res.items()
            }
            for b, res in results.items()
        })
    with open(osp.join(args.out_dir, 'baselines.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
