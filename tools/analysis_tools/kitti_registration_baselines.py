"""Registration-only baselines of KITTI odometry, evaluated with the KITTI
metric: plain and deskewed scan registration, constant velocity and mean
motion.

Reads a converted odometry root (``ROOT/infos/``, ``ROOT/poses/XX.txt``,
the scans), builds (or reuses, when up to date) one registration-prior
cache per registration (``OUT/priors_<name>/``, the caches the training
pipeline reads) and writes, for each baseline, KITTI-format trajectories
``OUT/<baseline>/XX.txt`` (``tools/analysis_tools/eval_kitti_odom.py``
evaluates them) and ``OUT/registration_baselines.json``:

* ``registration``: every step is the small_gicp registration of the two
  scans as they are (:class:`ScanRegistration` with the settings of
  ``--reg-cfg``, those of the ``OdomScanRegistration`` of the config whose
  prior it stands for; its defaults without);
* ``registration_deskew_motion``: the same, both scans deskewed with the
  first estimate's motion (KISS-ICP's motion model, from the pair itself);
* ``registration_deskew_imu``: deskewed with the rotation integrated from
  the pair's IMU window (the estimate's translation);
* ``registration_predicted``: registered along the sequence, each pair
  from the previous pair's estimate (constant velocity), not from the
  identity (``ScanRegistration(predict='motion')``);
* ``registration_remap_motion``: the same, the directions the scans leave
  unconstrained kept at the prediction (``min_eigen_ratio``: solution
  remapping; LiDAR only);
* ``registration_remap_imu``: the same, the rotation predicted from the
  pair's gyro (``predict='imu'``; LiDAR + IMU);
* ``registration_remap_motion_camera`` / ``registration_remap_imu_camera``:
  the two remapped registrations with the remapped directions (and the
  whole motion of a failed pair) taken from the camera's motion
  (``fill_camera``: tracked corners with the scan's depth, PnP; LiDAR +
  camera and LiDAR + IMU + camera; with ``--camera-cfg hold_rotation=True``
  the latter's camera keeps the gyro's rotation and solves the translation);
* ``visual``: that camera motion alone (the ``visual_pose`` of the last
  one's cache; camera with LiDAR depth);
* ``constant_velocity``: the previous ground-truth motion
  (``KittiOdomMetric``'s baseline);
* ``mean_motion``: the configs' fixed mean motion at every step (no
  sensor).

A registration that failed (too few correspondences or no convergence)
repeats the previous step of the same baseline, as a constant-velocity
odometry would. For a generated sample whose stamp lists sensor-failure
stretches (the ``hard`` presets), the mean per-frame errors are also given
per condition of the frames (normal, in a LiDAR or camera failure).

Example::

    python tools/misc/generate_kitti_sample.py data/kitti_hard \\
        --preset hard --sequences 09,10
    python tools/dataset_converters/kitti_odom_converter.py data/kitti_hard
    python tools/analysis_tools/kitti_registration_baselines.py \\
        data/kitti_hard --sequences 09,10 --nproc 2 \\
        --out-dir work_dirs/registration_baselines_hard \\
        --reg-cfg max_points=None downsample=0.5
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

from projects.trimodal_odom.trimodal_odom.converters import \
    build_reg_prior_cache
from projects.trimodal_odom.trimodal_odom.datasets.odom_info_file import \
    parse_sequences
from projects.trimodal_odom.trimodal_odom.evaluation import (
    combine_sequences, evaluate_trajectory)
from projects.trimodal_odom.trimodal_odom.evaluation.functional import (
    condition_errors, frame_conditions)
from projects.trimodal_odom.trimodal_odom.evaluation.metrics import (
    constant_velocity, fixed_motion)
from projects.trimodal_odom.trimodal_odom.testing import read_sample_stamp
from projects.trimodal_odom.trimodal_odom.utils import (KittiFormatError,
                                                        compose_relative,
                                                        load_calib, load_poses,
                                                        make_pose,
                                                        relative_pose,
                                                        save_poses,
                                                        se3_inverse, so3_exp)

RUNTIME = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'trimodal_odom', '_base_',
    'default_runtime.py')
#: The registrations: name -> their own :class:`ScanRegistration`
#: settings (``min_eigen_ratio`` set from ``--min-eigen-ratio``).
REGISTRATIONS = {
    'registration': {},
    'registration_deskew_motion':
    dict(deskew='motion'),
    'registration_deskew_imu':
    dict(deskew='imu'),
    'registration_predicted':
    dict(predict='motion'),
    'registration_remap_motion':
    dict(predict='motion', min_eigen_ratio=None),
    'registration_remap_imu':
    dict(predict='imu', min_eigen_ratio=None),
    'registration_remap_motion_camera':
    dict(predict='motion', min_eigen_ratio=None, fill_camera={}),
    'registration_remap_imu_camera':
    dict(predict='imu', min_eigen_ratio=None, fill_camera={}),
}
#: The cache whose camera estimates the ``visual`` baseline composes.
VISUAL_FROM = 'registration_remap_imu_camera'

_OWN_SETTINGS = ('deskew', 'predict', 'min_eigen_ratio', 'fill_camera')
BASELINES = tuple(REGISTRATIONS) + ('visual', 'constant_velocity',
                                    'mean_motion')
_KEYS = ('t_rel', 'r_rel', 'ate', 'ate_sim3', 'rpe_t', 'rpe_r')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Registration-only, constant-velocity and mean-motion '
        'baselines of KITTI odometry')
    parser.add_argument(
        'root', help='converted KITTI odometry root (infos/, poses/)')
    parser.add_argument(
        '--sequences', default='09,10', help='evaluated sequences')
    parser.add_argument(
        '--nproc', type=int, default=1, help='registration processes')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--reg-cfg',
        nargs='+',
        action=DictAction,
        default={},
        help='ScanRegistration settings of every registration baseline '
        '(those of the config\'s OdomScanRegistration), e.g. '
        'max_points=None downsample=0.5; deskew, predict and '
        'min_eigen_ratio are set per baseline')
    parser.add_argument(
        '--camera-cfg',
        nargs='+',
        action=DictAction,
        default={},
        help='VisualMotion settings of the camera-filled baselines '
        '(fill_camera), e.g. min_distance=3 window=11 for small images '
        '(default: its defaults)')
    parser.add_argument(
        '--min-eigen-ratio',
        type=float,
        default=0.02,
        help='min_eigen_ratio of the remapping baselines (see '
        'ScanRegistration)')
    args = parser.parse_args()
    own = sorted(set(args.reg_cfg) & set(_OWN_SETTINGS))
    if own:
        parser.error(f'--reg-cfg {" ".join(own)}: each registration '
                     f'baseline sets its own ({", ".join(REGISTRATIONS)})')
    return args


def registration_steps(cache_path: str,
                       Tr: np.ndarray,
                       num_frames: int,
                       visual: bool = False) -> Dict[str, np.ndarray]:
    """The steps (N - 1, 4, 4) of a registration-prior cache in the
    camera-0 frame, a failed pair repeating the previous step (the first
    one the identity; a failed pair the camera filled keeps its pose),
    and the number of failed pairs and the deskewing each pair got
    (``'motion'``, ``'imu'`` or ``''``).

    Args:
        cache_path (str): Cache file of frame gap 1
            (``kitti_reg_priors_XX.npz``).
        Tr (np.ndarray): LiDAR -> camera 0 (4, 4).
        num_frames (int): Frames of the sequence.
        visual (bool): The camera's estimates of a ``fill_camera`` cache
            instead (``visual_pose``; failed where it has no inliers).
            Defaults to False.

    Returns:
        dict: ``steps`` (N - 1, 4, 4), ``failed`` (int), ``deskewed_with``
        (N - 1,) str.
    """
    with np.load(cache_path) as data:
        pose, converged = data['pose'], data['converged']
        frame_ids, deskewed = data['frame_ids'], data['deskewed_with']
        if 'filled' in data.files:
            converged = converged | data['filled']
        if visual:
            pose, converged = data['visual_pose'], data['visual_inliers'] > 0
    if frame_ids.tolist() != [[i, i + 1] for i in range(num_frames - 1)]:
        raise KittiFormatError(
            f'{cache_path}: expected the pairs (i, i + 1) of {num_frames} '
            'frames; build the cache with frame gap 1')
    steps = np.empty((num_frames - 1, 4, 4))
    previous, Tr_inv = np.eye(4), se3_inverse(Tr)
    for k, vec in enumerate(pose):
        if converged[k]:
            previous = Tr @ make_pose(so3_exp(vec[3:]), vec[:3]) @ Tr_inv
        steps[k] = previous
    return dict(
        steps=steps,
        failed=int((~converged).sum()),
        deskewed_with=deskewed.astype(str))


def _failures(root: str) -> Optional[Dict[str, List[dict]]]:
    stamp = read_sample_stamp(root)
    if stamp is None:
        return None
    seqs = stamp['manifest']['sequences']
    return {seq: s['failures'] for seq, s in seqs.items() if 'failures' in s}


def main() -> int:
    args = parse_args()
    seqs = parse_sequences(args.sequences)
    mean_motion = Config.fromfile(RUNTIME).val_evaluator['mean_motion']
    failures = _failures(args.root)
    steps: Dict[str, Dict[str, np.ndarray]] = {b: {} for b in BASELINES}
    notes: Dict[str, Dict[str, dict]] = {b: {} for b in REGISTRATIONS}
    gt = {}
    for seq in seqs:
        gt[seq] = load_poses(osp.join(args.root, 'poses', f'{seq}.txt'))
        gt_rel = relative_pose(gt[seq][:-1], gt[seq][1:])
        steps['constant_velocity'][seq] = constant_velocity(gt_rel)
        steps['mean_motion'][seq] = fixed_motion(len(gt_rel), mean_motion)
    Tr = {
        seq: load_calib(osp.join(args.root, 'sequences', seq,
                                 'calib.txt'))['Tr']
        for seq in seqs
    }
    for name, own in REGISTRATIONS.items():
        out_dir = osp.join(args.out_dir, f'priors_{name}')
        if 'min_eigen_ratio' in own:
            own = dict(own, min_eigen_ratio=args.min_eigen_ratio)
        if 'fill_camera' in own:
            own = dict(own, fill_camera=dict(args.camera_cfg))
        build_reg_prior_cache(
            args.root,
            sequences=seqs,
            out_dir=out_dir,
            nproc=args.nproc,
            **own,
            **args.reg_cfg)
        for seq in seqs:
            reg = registration_steps(
                osp.join(out_dir, f'kitti_reg_priors_{seq}.npz'), Tr[seq],
                len(gt[seq]))
            steps[name][seq] = reg['steps']
            if name == VISUAL_FROM:
                steps['visual'][seq] = registration_steps(
                    osp.join(out_dir, f'kitti_reg_priors_{seq}.npz'),
                    Tr[seq],
                    len(gt[seq]),
                    visual=True)['steps']
            kinds, counts = np.unique(reg['deskewed_with'], return_counts=True)
            notes[name][seq] = dict(
                failed=reg['failed'],
                deskewed_with={
                    str(k): int(c)
                    for k, c in zip(kinds, counts)
                })

    results, rows = {}, [['baseline', 'sequence'] + list(_KEYS)]
    for name in BASELINES:
        os.makedirs(osp.join(args.out_dir, name), exist_ok=True)
        per_seq, errors = {}, []
        for seq in seqs:
            est = compose_relative(gt[seq][0], steps[name][seq])
            save_poses(osp.join(args.out_dir, name, f'{seq}.txt'), est)
            err, res = evaluate_trajectory(gt[seq], est)
            errors.append(err)
            gt_rel = relative_pose(gt[seq][:-1], gt[seq][1:])
            if failures is not None and seq in failures:
                res['conditions'] = condition_errors(
                    gt_rel, steps[name][seq],
                    frame_conditions(failures[seq], len(gt_rel)))
            if name in notes:
                res.update(notes[name][seq])
            per_seq[seq] = res
            rows.append([name, seq] + [f'{res[k]:.3f}' for k in _KEYS])
        results[name] = dict(sequences=per_seq)
        if len(seqs) > 1:
            results[name]['all'] = combine_sequences(errors,
                                                     list(per_seq.values()))
            rows.append([name, 'all'] +
                        [f'{results[name]["all"][k]:.3f}' for k in _KEYS])
    with open(osp.join(args.out_dir, 'registration_baselines.json'), 'w') as f:
        json.dump(
            dict(
                root=osp.abspath(args.root),
                mean_motion=list(mean_motion),
                results=results),
            f,
            indent=1)
    print(AsciiTable(rows).table)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KittiFormatError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
