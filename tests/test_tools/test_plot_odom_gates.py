"""tools/analysis_tools/plot_odom_gates.py: the gates a run wrote, over the
failure stretches of the hard sample's manifest."""
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.testing import generate_hard_sample

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'plot_odom_gates.py')


def run(argv, monkeypatch):
    monkeypatch.setattr(sys, 'argv', [TOOL] + argv)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(TOOL, run_name='__main__')
    return e.value.code


def test_plots_the_gates_over_the_stretches(tmp_path, monkeypatch, capsys):
    sample = str(tmp_path / 'hard')
    generate_hard_sample(sample, preset='hard-tiny')
    traj = tmp_path / 'trajectories'
    traj.mkdir()
    rows = np.c_[np.arange(39),
                 np.ones(39),
                 np.linspace(0, 1, 39),
                 np.ones(39)]
    np.savetxt(
        traj / '00_gates.txt',
        rows,
        fmt='%.6f',
        header='frame visual point imu')
    out = tmp_path / 'figures'
    assert run([str(traj), '--sample-root', sample, '--out-dir',
                str(out)], monkeypatch) == 0
    png = cv2.imread(str(out / '00_gates.png'))
    assert png.shape == (300, 1000, 3)
    # the stretches are shaded: without the sample, fewer coloured pixels
    assert run([str(traj)], monkeypatch) == 0
    plain = cv2.imread(str(traj / '00_gates.png'))
    tinted = (np.ptp(png, axis=2) > 20).sum()
    assert tinted > (np.ptp(plain, axis=2) > 20).sum() + 1000
    # a folder without gates
    assert run([str(out)], monkeypatch) == 1
    assert 'no *_gates.txt' in capsys.readouterr().err
