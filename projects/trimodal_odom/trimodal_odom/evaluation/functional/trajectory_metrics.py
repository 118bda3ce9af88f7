"""All trajectory metrics of one sequence, and their mean over sequences.

Array code only (:mod:`.kitti_odom_eval`, :mod:`.trajectory_eval`): the
metric and ``tools/analysis_tools/eval_kitti_odom.py`` share it, and the
command runs without torch and the models.
"""
from typing import Dict, Sequence, Tuple

import numpy as np

from .kitti_odom_eval import KITTI_LENGTHS, segment_errors, summarize_errors
from .trajectory_eval import absolute_trajectory_error, relative_pose_error

# Metrics averaged over sequences (the KITTI errors are pooled instead).
SEQUENCE_MEAN_KEYS = ('ate', 'ate_sim3', 'rpe_t', 'rpe_r')


def evaluate_trajectory(gt: np.ndarray,
                        est: np.ndarray,
                        lengths: Sequence[float] = KITTI_LENGTHS,
                        step_size: int = 10,
                        rpe_delta: int = 1
                        ) -> Tuple[np.ndarray, Dict[str, float]]:
    """KITTI segment errors, ATE and RPE of one trajectory.

    Args:
        gt (np.ndarray): Ground-truth poses of shape (N, 4, 4).
        est (np.ndarray): Estimated poses of shape (N, 4, 4).
        lengths (Sequence[float]): Segment lengths in metres.
            Defaults to 100, ..., 800.
        step_size (int): Step between first frames of segments.
            Defaults to 10.
        rpe_delta (int): Frame delta of the RPE. Defaults to 1.

    Returns:
        tuple[np.ndarray, dict]: The rows of :func:`segment_errors` (S, 4)
        and the metrics: those of :func:`summarize_errors`, ``ate`` and
        ``ate_sim3`` (m, SE(3) / Sim(3) Umeyama alignment), ``rpe_t`` (m)
        and ``rpe_r`` (deg).
    """
    errors = segment_errors(gt, est, lengths, step_size)
    res = summarize_errors(errors, lengths)
    res['ate'] = absolute_trajectory_error(gt, est)
    res['ate_sim3'] = absolute_trajectory_error(gt, est, with_scale=True)
    res.update(relative_pose_error(gt, est, rpe_delta))
    return errors, res


def combine_sequences(errors: Sequence[np.ndarray],
                      results: Sequence[Dict[str, float]],
                      lengths: Sequence[float] = KITTI_LENGTHS
                      ) -> Dict[str, float]:
    """Metrics over several sequences, as the KITTI benchmark reports them.

    The segment errors of all sequences are pooled (each segment counts
    once); ATE and RPE are the means of the sequences' values.

    Args:
        errors (Sequence[np.ndarray]): Segment errors of each sequence.
        results (Sequence[dict]): Metrics of each sequence
            (:func:`evaluate_trajectory`).
        lengths (Sequence[float]): Segment lengths in metres.

    Returns:
        dict: The keys of :func:`evaluate_trajectory`'s metrics.
    """
    out = summarize_errors(np.concatenate(errors), lengths)
    for key in SEQUENCE_MEAN_KEYS:
        out[key] = float(np.mean([r[key] for r in results]))
    return out
