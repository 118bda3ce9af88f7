"""KITTI odometry evaluation of predicted relative poses."""
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet3d.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from ...utils.kitti_io import save_poses
from ...utils.se3 import compose_relative, make_pose, so3_exp
from ..functional import (KITTI_LENGTHS, combine_sequences,
                          evaluate_trajectory, plot_trajectories)

BASELINES = ('constant_velocity', 'mean_motion')


def constant_velocity(gt_rel: np.ndarray) -> np.ndarray:
    """Constant-velocity baseline: each step repeats the previous motion.

    The relative pose of pair ``i`` is the ground-truth relative pose of
    pair ``i - 1``; the first pair, without a previous motion, is the
    identity.  It is the "no learning" reference an odometry model has to
    beat: it is exact while the vehicle keeps its speed and turn rate.

    Args:
        gt_rel (np.ndarray): Ground-truth relative poses (N, 4, 4).

    Returns:
        np.ndarray: Baseline relative poses (N, 4, 4).
    """
    out = np.empty_like(gt_rel)
    out[0] = np.eye(4)
    out[1:] = gt_rel[:-1]
    return out


def fixed_motion(num: int, motion: Sequence[float]) -> np.ndarray:
    """Sensor-free constant-velocity baseline: every step is one fixed
    motion, e.g. the mean motion between two frames of the training data.

    Unlike :func:`constant_velocity` it uses no ground truth of the
    evaluated sequence: it is what a model that ignores its inputs would
    predict.

    Args:
        num (int): Number of relative poses.
        motion (Sequence[float]): Translation (m) and axis-angle (rad),
            6 values, in the frame of the first pose of a pair.

    Returns:
        np.ndarray: Baseline relative poses (num, 4, 4).
    """
    motion = np.asarray(motion, dtype=np.float64)
    if motion.shape != (6, ) or not np.all(np.isfinite(motion)):
        raise ValueError('mean_motion must be 6 finite values (translation, '
                         f'axis-angle), got {motion.tolist()}')
    step = make_pose(so3_exp(motion[3:]), motion[:3])
    return np.repeat(step[None], num, axis=0)


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


@METRICS.register_module()
class KittiOdomMetric(BaseMetric):
    """Trajectory metrics of an odometry model on KITTI sequences.

    Predicted relative poses are chained into one trajectory per sequence
    (starting at the identity), as are the ground-truth relative poses;
    then the metrics are computed:

    - ``t_rel`` (%), ``r_rel`` (deg / 100 m): the KITTI benchmark metric
      (see :mod:`..functional.kitti_odom_eval`), over all segments of all
      sequences, plus ``t_rel_{L}`` / ``r_rel_{L}`` per segment length;
    - ``ate`` / ``ate_sim3`` (m): RMSE of positions after SE(3) / Sim(3)
      Umeyama alignment;
    - ``rpe_t`` (m), ``rpe_r`` (deg): RMSE of relative-motion errors over
      ``rpe_delta`` trajectory steps.

    Chaining: the samples of a sequence are sorted by their first frame;
    the chain starts at the smallest first frame ``t`` and follows each
    pair ``(t, t + k)`` to the sample starting at ``t + k``.  With frame
    gap 1 every frame is a trajectory pose.  With a gap ``k > 1`` the
    trajectory holds every ``k``-th frame, pairs that start between chain
    frames are not used, and ``step_size`` and ``rpe_delta`` count
    trajectory poses, not raw frames.  A chain that stops before the last
    sample of its sequence is an error.

    Estimated and ground-truth trajectories are written in the KITTI pose
    format (``{seq}_pred.txt``, ``{seq}_gt.txt``, readable by ``evo_traj
    kitti``), with a top-view plot ``{seq}_traj.png`` and
    ``{seq}_frames.txt`` (the frame index of each pose). A model with a
    gated fusion (samples with ``pred_gates``, see
    :meth:`TrimodalOdometry.forward`) also gets ``{seq}_gates.txt``: per
    pair of the chain its first frame and the weight of each modality
    (header: the ``gate_modalities``).

    Args:
        lengths (Sequence[float]): Segment lengths in metres.
            Defaults to 100, 200, ..., 800.
        step_size (int): Step between first frames of segments.
            Defaults to 10.
        rpe_delta (int): Step of the RPE. Defaults to 1.
        baselines (Sequence[str]): Reference trajectories evaluated beside
            the predictions, reported as ``{baseline}/{metric}``:
            ``'constant_velocity'`` (each step repeats the previous
            ground-truth motion, see :func:`constant_velocity`) and
            ``'mean_motion'`` (each step is ``mean_motion``, see
            :func:`fixed_motion`). Defaults to ().
        mean_motion (Sequence[float], optional): The fixed motion of the
            ``'mean_motion'`` baseline, translation (m) and axis-angle
            (rad). Required by that baseline. Defaults to None.
        outfile_prefix (str, optional): Directory of the trajectory files
            and plots. Defaults to None: ``trajectories/`` in the log
            directory of the current run (``work_dir/<timestamp>``).
        save_plots (bool): Whether to save the PNG plots. Defaults to True.
        per_sequence (bool): Also return ``{seq}/{metric}`` for every
            sequence. Defaults to True.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.
            Defaults to ``'kitti'``.
    """

    default_prefix: Optional[str] = 'kitti'

    def __init__(self,
                 lengths: Sequence[float] = KITTI_LENGTHS,
                 step_size: int = 10,
                 rpe_delta: int = 1,
                 baselines: Sequence[str] = (),
                 mean_motion: Optional[Sequence[float]] = None,
                 outfile_prefix: Optional[str] = None,
                 save_plots: bool = True,
                 per_sequence: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(baselines) - set(BASELINES)
        if unknown:
            raise ValueError(f'unknown baselines {sorted(unknown)}, '
                             f'available: {BASELINES}')
        self.lengths = tuple(lengths)
        self.step_size = step_size
        self.rpe_delta = rpe_delta
        self.baselines = tuple(baselines)
        if 'mean_motion' in self.baselines:
            if mean_motion is None:
                raise ValueError('the mean_motion baseline needs '
                                 '`mean_motion` (6 values)')
            fixed_motion(1, mean_motion)  # validate early
        self.mean_motion = mean_motion
        self.outfile_prefix = outfile_prefix
        self.save_plots = save_plots
        self.per_sequence = per_sequence

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the predicted and ground-truth relative poses of a batch.

        Args:
            data_batch (dict): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with ``pred_pose``
                (4, 4), ``gt_pose`` (4, 4), ``seq`` and ``frame_ids``.
        """
        for sample in data_samples:
            for key in ('pred_pose', 'gt_pose', 'seq', 'frame_ids'):
                if key not in sample:
                    raise KeyError(f'data sample without {key!r}: '
                                   f'{sorted(sample)}')
            pred = _to_numpy(sample['pred_pose'])
            if pred.shape != (4, 4) or not np.all(np.isfinite(pred)):
                raise ValueError(
                    f'sequence {sample["seq"]} frames {sample["frame_ids"]}:'
                    f' pred_pose must be a finite (4, 4) matrix')
            result = dict(
                seq=str(sample['seq']),
                frame_ids=tuple(int(f) for f in sample['frame_ids']),
                pred=pred,
                gt=_to_numpy(sample['gt_pose']))
            if 'pred_gates' in sample:
                result['gates'] = _to_numpy(sample['pred_gates'])
                result['gate_modalities'] = tuple(sample['gate_modalities'])
            self.results.append(result)

    @staticmethod
    def chain(seq: str, results: List[dict]) -> List[dict]:
        """Select the chain of consecutive pairs of one sequence.

        Args:
            seq (str): Sequence name, for error messages.
            results (list[dict]): Stored results of the sequence.

        Returns:
            list[dict]: The results along the chain, in frame order.
        """
        by_first = {}
        for r in results:
            first = r['frame_ids'][0]
            if first in by_first and by_first[first]['frame_ids'] != \
                    r['frame_ids']:
                raise ValueError(
                    f'sequence {seq}: pairs {by_first[first]["frame_ids"]} '
                    f'and {r["frame_ids"]} start at the same frame; '
                    'evaluate one frame gap at a time')
            by_first[first] = r
        frame = min(by_first)
        chain = []
        while frame in by_first:
            chain.append(by_first[frame])
            frame = by_first[frame]['frame_ids'][1]
        if frame < max(by_first):
            raise ValueError(
                f'sequence {seq}: no prediction for the pair starting at '
                f'frame {frame}; the trajectory cannot be chained beyond it')
        return chain

    def _out_dir(self) -> Optional[str]:
        if self.outfile_prefix is not None:
            return self.outfile_prefix
        # The runner's logger writes into its log dir, work_dir/<timestamp>.
        log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
        if log_file:
            return osp.join(osp.dirname(log_file), 'trajectories')
        return None

    def _evaluate(self, gt: np.ndarray, est: np.ndarray) -> tuple:
        return evaluate_trajectory(gt, est, self.lengths, self.step_size,
                                   self.rpe_delta)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Chain, evaluate, write trajectories and plots.

        Args:
            results (list[dict]): Stored results of all ranks.

        Returns:
            dict[str, float]: Metrics over all sequences and, with
            ``per_sequence``, of each sequence.
        """
        logger = MMLogger.get_current_instance()
        by_seq = defaultdict(list)
        for r in results:
            by_seq[r['seq']].append(r)
        out_dir = self._out_dir()
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)

        methods = ('pred', ) + self.baselines
        all_errors = {m: [] for m in methods}
        per_seq = {m: {} for m in methods}
        for seq in sorted(by_seq):
            chain = self.chain(seq, by_seq[seq])
            if len(chain) < len(by_seq[seq]):
                logger.info(f'sequence {seq}: {len(chain)} of '
                            f'{len(by_seq[seq])} pairs form the trajectory')
            gt_rel = np.stack([r['gt'] for r in chain])
            rels = dict(pred=np.stack([r['pred'] for r in chain]))
            if 'constant_velocity' in self.baselines:
                rels['constant_velocity'] = constant_velocity(gt_rel)
            if 'mean_motion' in self.baselines:
                rels['mean_motion'] = fixed_motion(
                    len(gt_rel), self.mean_motion)
            gt = compose_relative(np.eye(4), gt_rel)
            trajs = {m: compose_relative(np.eye(4), rels[m]) for m in methods}
            for m in methods:
                errors, res = self._evaluate(gt, trajs[m])
                all_errors[m].append(errors)
                per_seq[m][seq] = res
            if out_dir is not None:
                frames = [chain[0]['frame_ids'][0]
                          ] + [r['frame_ids'][1] for r in chain]
                np.savetxt(
                    osp.join(out_dir, f'{seq}_frames.txt'), frames, fmt='%d')
                save_poses(osp.join(out_dir, f'{seq}_gt.txt'), gt)
                save_poses(osp.join(out_dir, f'{seq}_pred.txt'), trajs['pred'])
                for b in self.baselines:
                    save_poses(osp.join(out_dir, f'{seq}_{b}.txt'), trajs[b])
                if 'gates' in chain[0]:
                    self.save_gates(
                        osp.join(out_dir, f'{seq}_gates.txt'), chain)
                if self.save_plots:
                    plot_trajectories(
                        osp.join(out_dir, f'{seq}_traj.png'),
                        gt, {m: trajs[m]
                             for m in methods},
                        title=f'sequence {seq}')

        metrics = {}
        for m in methods:
            mean = combine_sequences(all_errors[m], list(per_seq[m].values()),
                                     self.lengths)
            per_seq[m]['mean'] = mean
            tag = '' if m == 'pred' else f'{m}/'
            for key, value in mean.items():
                metrics[f'{tag}{key}'] = float(value)
            if self.per_sequence:
                for seq in sorted(by_seq):
                    for key in ('t_rel', 'r_rel', 'ate', 'rpe_t', 'rpe_r'):
                        metrics[f'{tag}{seq}/{key}'] = float(
                            per_seq[m][seq][key])
        logger.info('\n' + self.format_table(per_seq))
        if out_dir is not None:
            logger.info(f'trajectories (KITTI pose format) and plots are in '
                        f'{out_dir}')
        return metrics

    @staticmethod
    def save_gates(path: str, chain: List[dict]) -> None:
        """Write the fusion gates of a chain: a header naming the
        modalities, then per pair its first frame and the M gates."""
        rows = np.array([[r['frame_ids'][0], *r['gates']] for r in chain])
        fmt = ['%d'] + ['%.6f'] * (rows.shape[1] - 1)
        np.savetxt(
            path,
            rows,
            fmt=fmt,
            header='frame ' + ' '.join(chain[0]['gate_modalities']))

    @staticmethod
    def format_table(per_seq: Dict[str, Dict[str, dict]]) -> str:
        """Results table: one row per (method, sequence) and the mean."""
        header = [
            'method', 'seq', 't_rel (%)', 'r_rel (deg/100m)', 'ATE (m)',
            'ATE sim3 (m)', 'RPE t (m)', 'RPE r (deg)', 'segments'
        ]
        rows = [header]
        for m, seqs in per_seq.items():
            for seq, r in seqs.items():
                rows.append([
                    m, seq, f'{r["t_rel"]:.3f}', f'{r["r_rel"]:.3f}',
                    f'{r["ate"]:.3f}', f'{r["ate_sim3"]:.3f}',
                    f'{r["rpe_t"]:.4f}', f'{r["rpe_r"]:.4f}',
                    f'{int(r["num_segments"])}'
                ])
        return AsciiTable(rows).table
