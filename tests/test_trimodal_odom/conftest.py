import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.dirname(__file__))  # for kitti_odom_layout

from kitti_odom_layout import build_real_kitti  # noqa: E402


@pytest.fixture
def real_kitti(tmp_path):
    """Root of a fresh one-sequence layout around the real KITTI frames."""
    return build_real_kitti(str(tmp_path / 'kitti'))
