"""tools/analysis_tools/eval_kitti_odom.py, run as a command in fresh
processes on the real KITTI fixtures.

The command imports the metric's array code with plain imports and must
not load torch, mmcv, mmdet or mmdet3d, nor the project's models, datasets,
registered metric, converters or sample generator (nor matplotlib without
plots): torch alone takes over a second to import. mmengine's base package
(through the data reports of ``utils.kitti_io``) and scipy (the rotations
of ``utils.se3``) are light and allowed."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'eval_kitti_odom.py')
DATA = osp.join(REPO, 'tests', 'data', 'kitti')
GT_00 = osp.join(DATA, '00.txt')
ORB_00 = osp.join(DATA, '00_orbslam2_estimate.txt')
PACKAGE = 'projects.trimodal_odom.trimodal_odom'
HEAVY = ('torch', 'mmcv', 'mmdet', 'mmdet3d') + tuple(
    f'{PACKAGE}.{name}'
    for name in ('models', 'datasets', 'evaluation.metrics', 'converters',
                 'testing'))
# Runs the command, then reports which heavy modules it imported.
PROBE = """
import runpy, sys
sys.argv = sys.argv[1:]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
except SystemExit as e:
    code = e.code
heavy = {heavy}
if '--out-dir' not in sys.argv:
    heavy += ('matplotlib', )
print('IMPORTED', sorted(m for m in sys.modules
                         if m in heavy or m.startswith(heavy)))
sys.exit(code)
"""


def run(*args):
    """Run the command in a fresh interpreter, in another folder than the
    repository's (the project found as an installed package is)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    start = time.perf_counter()
    proc = subprocess.run([
        sys.executable, '-c',
        PROBE.format(heavy=HEAVY), TOOL, *map(str, args)
    ],
                          capture_output=True,
                          text=True,
                          cwd='/',
                          env=env,
                          timeout=120)
    return proc, time.perf_counter() - start


def test_orbslam2_on_real_00_matches_published_figures(tmp_path):
    out = tmp_path / 'metrics.json'
    proc, seconds = run(GT_00, ORB_00, '--json', out)
    assert proc.returncode == 0, proc.stderr
    assert 'IMPORTED []' in proc.stdout  # no torch, mmdet*, models
    # under 2 s on an idle 2-core machine; loose here, the CPU is shared
    assert seconds < 20
    res = json.loads(out.read_text())['sequences']['00']
    # ORB-SLAM2 stereo on 00, KITTI benchmark: 0.70 %, 0.25 deg / 100 m
    assert res['t_rel'] == pytest.approx(0.6997, abs=5e-4)
    assert res['r_rel'] == pytest.approx(0.2533, abs=5e-4)
    assert res['num_segments'] == 3283
    assert res['t_rel_100'] > res['t_rel_800'] > 0.3
    assert res['ate'] > res['ate_sim3'] > 0.5
    assert 0 < res['rpe_t'] < 0.1
    assert '0.700 / 0.253' in proc.stdout  # the mean column of the table
    for length in range(100, 900, 100):
        assert f'{length} m' in proc.stdout


def test_folders_sequences_and_plots(tmp_path):
    gt, est = tmp_path / 'gt', tmp_path / 'est'
    gt.mkdir()
    est.mkdir()
    for seq in ('00', '09', '10'):
        shutil.copy(osp.join(DATA, f'{seq}.txt'), gt / f'{seq}.txt')
    shutil.copy(ORB_00, est / '00.txt')
    shutil.copy(osp.join(DATA, '09.txt'), est / '09.txt')  # exact
    out_dir = tmp_path / 'plots'
    proc, _ = run(gt, est, '--out-dir', out_dir, '--json', out_dir / 'm.json')
    assert proc.returncode == 0, proc.stderr
    assert 'IMPORTED []' in proc.stdout
    metrics = json.loads((out_dir / 'm.json').read_text())
    assert sorted(metrics['sequences']) == ['00', '09']  # the estimates
    assert metrics['sequences']['09']['t_rel'] < 1e-6
    n00 = metrics['sequences']['00']['num_segments']
    n09 = metrics['sequences']['09']['num_segments']
    assert metrics['all']['num_segments'] == n00 + n09
    # pooled segments: the mean weighted by the segment counts
    assert metrics['all']['t_rel'] == pytest.approx(
        metrics['sequences']['00']['t_rel'] * n00 / (n00 + n09))
    assert metrics['all']['ate'] == pytest.approx(
        metrics['sequences']['00']['ate'] / 2)
    for name in ('00_traj.png', '09_traj.png', 'segment_errors.png'):
        with open(out_dir / name, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    proc, _ = run(gt, est, '--sequences', '9')
    assert proc.returncode == 0, proc.stderr
    assert '| 09  |' in proc.stdout and '| 00  |' not in proc.stdout


def _write_poses(path, poses):
    np.savetxt(path, poses.reshape(len(poses), -1)[:, :12], fmt='%.9e')


@pytest.fixture
def folders(tmp_path):
    gt, est = tmp_path / 'gt', tmp_path / 'est'
    gt.mkdir()
    est.mkdir()
    poses = np.loadtxt(osp.join(DATA, '10.txt'))
    _write_poses(gt / '10.txt', poses)
    _write_poses(est / '10.txt', poses)
    return gt, est, poses


def test_missing_sequence_is_named(folders):
    gt, est, poses = folders
    proc, _ = run(gt, est, '--sequences', '10,05')
    assert proc.returncode == 1
    assert f'{gt}/05.txt: file of sequence 05 not found' in proc.stderr
    _write_poses(est / '07.txt', poses)  # an estimate without ground truth
    proc, _ = run(gt, est)
    assert proc.returncode == 1
    assert f'{gt}/07.txt: file of sequence 07 not found' in proc.stderr
    proc, _ = run(gt / '10.txt', est)
    assert proc.returncode == 1 and 'give two files or two folders' in \
        proc.stderr


def test_length_mismatch_is_named(folders):
    gt, est, poses = folders
    _write_poses(est / '10.txt', poses[:-3])
    proc, _ = run(gt, est)
    assert proc.returncode == 1
    assert (f'{est}/10.txt: {len(poses) - 3} poses but the ground truth '
            f'{gt}/10.txt has {len(poses)}') in proc.stderr


def test_malformed_line_is_named(folders):
    gt, est, _ = folders
    lines = (est / '10.txt').read_text().splitlines()
    lines[4] = ' '.join(lines[4].split()[:11])
    lines[7] = lines[7].replace(lines[7].split()[3], 'nan?')
    (est / '10.txt').write_text('\n'.join(lines) + '\n')
    proc, _ = run(gt / '10.txt', est / '10.txt')
    assert proc.returncode == 1
    assert f'{est}/10.txt:5: expected 12 values, got 11' in proc.stderr
    lines[4] = (gt / '10.txt').read_text().splitlines()[4]
    (est / '10.txt').write_text('\n'.join(lines) + '\n')
    proc, _ = run(gt / '10.txt', est / '10.txt')
    assert f'{est}/10.txt:8: not a number' in proc.stderr
