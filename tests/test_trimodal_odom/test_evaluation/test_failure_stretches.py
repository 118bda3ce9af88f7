"""Per-condition errors of the frames of a generated sample's failure
stretches."""
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.evaluation.functional import (
    condition_errors, frame_conditions)
from projects.trimodal_odom.trimodal_odom.utils import make_pose, so3_exp

STRETCHES = [
    dict(kind='dark', sensor='camera', first=2, last=3),
    dict(kind='open_road', sensor='lidar', first=6, last=7, extent=[1, 9])
]


def test_frame_conditions():
    assert frame_conditions(STRETCHES, 10) == [
        'normal', 'near_open_road', 'dark', 'dark', 'near_open_road',
        'near_open_road', 'open_road', 'open_road', 'near_open_road',
        'near_open_road'
    ]


def test_condition_errors():
    gt = np.repeat(make_pose(np.eye(3), [0.0, 0.0, 1.0])[None], 10, 0)
    est = gt.copy()
    est[6:8, 0, 3] = 0.3  # 30 cm off in the open road
    est[2, :3, :3] = so3_exp([0.0, np.radians(0.5), 0.0])
    res = condition_errors(gt, est, frame_conditions(STRETCHES, 10))
    assert res['open_road'] == pytest.approx(dict(num=2, t_err=0.3, r_err=0.0))
    assert res['dark']['num'] == 2
    assert res['dark']['r_err'] == pytest.approx(0.25)
    assert res['normal'] == dict(num=1, t_err=0.0, r_err=0.0)
    with pytest.raises(ValueError, match='9 conditions'):
        condition_errors(gt, est, ['normal'] * 9)
