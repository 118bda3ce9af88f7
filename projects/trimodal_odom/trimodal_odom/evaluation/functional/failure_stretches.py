"""Errors of relative poses per condition of the frames: normal, or in a
stretch where a sensor fails (the ``failures`` of a generated sample's
manifest, see ``testing/sensor_failures.py``)."""
from typing import Dict, List, Sequence

import numpy as np

from ...utils.se3 import relative_pose, rotation_angle


def frame_conditions(stretches: Sequence[dict], num: int) -> List[str]:
    """Condition of each of ``num`` frames: a stretch's ``kind``,
    ``near_<kind>`` in the rest of a LiDAR stretch's ``extent``, or
    ``'normal'``.

    Args:
        stretches (Sequence[dict]): ``kind``, ``first``, ``last`` and, for
            LiDAR stretches, ``extent`` (first and last frame).
        num (int): Frames of the sequence.

    Returns:
        list[str]: One condition per frame.
    """
    out = ['normal'] * num
    for s in stretches:
        if 'extent' in s:
            for i in range(s['extent'][0], min(s['extent'][1] + 1, num)):
                if out[i] == 'normal':
                    out[i] = 'near_' + s['kind']
    for s in stretches:
        for i in range(s['first'], min(s['last'] + 1, num)):
            out[i] = s['kind']
    return out


def condition_errors(gt_rel: np.ndarray, est_rel: np.ndarray,
                     conditions: Sequence[str]) -> Dict[str, dict]:
    """Mean per-frame errors of relative poses, per condition.

    Args:
        gt_rel (np.ndarray): Ground-truth relative poses (N, 4, 4).
        est_rel (np.ndarray): Estimated relative poses (N, 4, 4).
        conditions (Sequence[str]): Condition of each pair's first frame.

    Returns:
        dict: Condition -> ``num``, ``t_err`` (mean translation error, m)
        and ``r_err`` (mean rotation error, deg).
    """
    if len(gt_rel) != len(est_rel) or len(gt_rel) != len(conditions):
        raise ValueError(f'{len(gt_rel)} ground-truth and {len(est_rel)} '
                         f'estimated poses for {len(conditions)} conditions')
    err = relative_pose(est_rel, gt_rel)
    t_err = np.linalg.norm(err[:, :3, 3], axis=1)
    r_err = np.rad2deg(rotation_angle(err[:, :3, :3]))
    conditions = np.asarray(conditions)
    return {
        c:
        dict(
            num=int((conditions == c).sum()),
            t_err=float(t_err[conditions == c].mean()),
            r_err=float(r_err[conditions == c].mean()))
        for c in dict.fromkeys(conditions)
    }
