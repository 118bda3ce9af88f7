import math
import os.path as osp

import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.evaluation import (
    absolute_trajectory_error, relative_pose_error, segment_errors,
    summarize_errors, umeyama_alignment)
from projects.trimodal_odom.trimodal_odom.evaluation.metrics import \
    KittiOdomMetric
from projects.trimodal_odom.trimodal_odom.utils import (load_poses, make_pose,
                                                        so3_exp)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')
LENGTHS = [100, 200, 300, 400, 500, 600, 700, 800]


def reference_kitti_errors(gt, est):
    """The devkit's calcSequenceErrors written out with plain loops."""
    dist = [0.0]
    for i in range(1, len(gt)):
        d = 0.0
        for k in range(3):
            d += (gt[i - 1][k][3] - gt[i][k][3])**2
        dist.append(dist[i - 1] + math.sqrt(d))
    t_errs, r_errs = [], []
    for first in range(0, len(gt), 10):
        for length in LENGTHS:
            last = -1
            for i in range(first, len(dist)):
                if dist[i] > dist[first] + length:
                    last = i
                    break
            if last == -1:
                continue
            delta_gt = np.linalg.inv(gt[first]) @ gt[last]
            delta_est = np.linalg.inv(est[first]) @ est[last]
            err = np.linalg.inv(delta_est) @ delta_gt
            a, b, c = err[0][0], err[1][1], err[2][2]
            d = 0.5 * (a + b + c - 1.0)
            r_errs.append(math.acos(max(min(d, 1.0), -1.0)) / length)
            t_errs.append(
                math.sqrt(err[0][3]**2 + err[1][3]**2 + err[2][3]**2) / length)
    t_rel = sum(t_errs) / len(t_errs) * 100
    r_rel = sum(r_errs) / len(r_errs) * 180 / math.pi * 100
    return t_rel, r_rel, len(t_errs)


def perturb(gt, seed=0, t_sigma=0.02, r_sigma=0.002):
    """Compose the GT relative motions with random errors."""
    rng = np.random.default_rng(seed)
    out = [gt[0]]
    for i in range(1, len(gt)):
        rel = np.linalg.inv(gt[i - 1]) @ gt[i]
        noise = make_pose(
            so3_exp(rng.normal(0, r_sigma, 3)), rng.normal(0, t_sigma, 3))
        out.append(out[-1] @ rel @ noise)
    return np.stack(out)


@pytest.fixture(scope='module')
def trajectories():
    gts = {
        s: load_poses(osp.join(DATA, f'{s}.txt'))
        for s in ('00', '09', '10')
    }
    ests = {s: perturb(g, seed=int(s)) for s, g in gts.items()}
    ests['00_orb'] = load_poses(osp.join(DATA, '00_orbslam2_estimate.txt'))
    gts['00_orb'] = gts['00']
    return gts, ests


@pytest.mark.parametrize('seq', ['00', '09', '10', '00_orb'])
def test_matches_devkit_definition(trajectories, seq):
    gts, ests = trajectories
    ref_t, ref_r, ref_n = reference_kitti_errors(gts[seq], ests[seq])
    res = summarize_errors(segment_errors(gts[seq], ests[seq]))
    assert res['num_segments'] == ref_n
    assert res['t_rel'] == pytest.approx(ref_t, rel=1e-9)
    assert res['r_rel'] == pytest.approx(ref_r, rel=1e-9)
    assert ref_t > 0.1 and ref_r > 0.01
    if seq == '00_orb':
        # Published KITTI figures of stereo ORB-SLAM2 on sequence 00.
        assert res['t_rel'] == pytest.approx(0.70, abs=0.01)
        assert res['r_rel'] == pytest.approx(0.25, abs=0.01)


def test_ground_truth_has_zero_error(trajectories):
    gts, _ = trajectories
    for seq in ('00', '09', '10'):
        res = summarize_errors(segment_errors(gts[seq], gts[seq]))
        assert res['t_rel'] < 1e-9 and res['r_rel'] < 1e-5
        assert res['num_segments'] > 0
        assert absolute_trajectory_error(gts[seq], gts[seq]) < 1e-9
        rpe = relative_pose_error(gts[seq], gts[seq])
        assert rpe['rpe_t'] < 1e-9


def test_invariant_to_global_rigid_transform(trajectories):
    gts, ests = trajectories
    G = make_pose(so3_exp(np.array([0.3, -1.2, 0.7])), [15.0, -3.0, 120.0])
    gt, est = gts['09'], ests['09']
    a = summarize_errors(segment_errors(gt, est))
    b = summarize_errors(segment_errors(G @ gt, G @ est))
    for key in ('t_rel', 'r_rel', 't_rel_800', 'r_rel_100'):
        assert b[key] == pytest.approx(a[key], rel=1e-7)
    assert absolute_trajectory_error(G @ gt, G @ est) == pytest.approx(
        absolute_trajectory_error(gt, est), rel=1e-7)


@pytest.mark.parametrize('with_scale', [False, True])
def test_umeyama_recovers_known_transform(trajectories, with_scale):
    gts, _ = trajectories
    gt = gts['10']
    R = so3_exp(np.array([0.1, 2.0, -0.4]))
    t = np.array([5.0, -2.0, 30.0])
    s = 0.5 if with_scale else 1.0
    # est = inverse similarity of the ground truth
    est = gt.copy()
    est[:, :3, 3] = (gt[:, :3, 3] - t) @ R / s
    R_hat, t_hat, s_hat = umeyama_alignment(est[:, :3, 3], gt[:, :3, 3],
                                            with_scale)
    np.testing.assert_allclose(R_hat, R, atol=1e-9)
    np.testing.assert_allclose(t_hat, t, atol=1e-6)
    assert s_hat == pytest.approx(s)
    assert absolute_trajectory_error(gt, est, with_scale) < 1e-6
    if with_scale:
        assert absolute_trajectory_error(gt, est) > 1.0


def _samples(gt, est, seq, gap=1, start=0):
    out = []
    for i in range(start, len(gt) - gap, 1 if gap == 1 else 1):
        out.append(
            dict(
                seq=seq,
                frame_ids=(i, i + gap),
                gt_pose=(np.linalg.inv(gt[i]) @ gt[i + gap]).astype(
                    np.float32),
                pred_pose=np.linalg.inv(est[i]) @ est[i + gap]))
    return out


def test_metric_end_to_end(trajectories, tmp_path):
    gts, ests = trajectories
    metric = KittiOdomMetric(
        baselines=('constant_velocity', ), outfile_prefix=str(tmp_path))
    gt10, est10 = gts['10'][:600], ests['10'][:600]
    gt09, est09 = gts['09'][:500], ests['09'][:500]
    samples = _samples(gt10, est10, '10') + _samples(gt09, est09, '09')
    np.random.default_rng(0).shuffle(samples)
    metric.process({}, samples)
    res = metric.evaluate(len(samples))
    # gt_pose is float32: compare with the float32-rounded ground truth.
    ref = {}
    for seq, gt, est in (('09', gt09, est09), ('10', gt10, est10)):
        g = [np.eye(4)]
        for i in range(len(gt) - 1):
            g.append(g[-1] @ (np.linalg.inv(gt[i]) @ gt[i + 1]).astype(
                np.float32).astype(np.float64))
        e = [np.eye(4)]
        for i in range(len(est) - 1):
            e.append(e[-1] @ np.linalg.inv(est[i]) @ est[i + 1])
        ref[seq] = reference_kitti_errors(np.stack(g), np.stack(e))
        assert res[f'kitti/{seq}/t_rel'] == pytest.approx(ref[seq][0], 1e-6)
        assert res[f'kitti/{seq}/r_rel'] == pytest.approx(ref[seq][1], 1e-6)
        assert osp.isfile(tmp_path / f'{seq}_traj.png')
        np.testing.assert_allclose(
            load_poses(str(tmp_path / f'{seq}_gt.txt')),
            np.linalg.inv(gt[0]) @ gt,
            atol=1e-3)
        assert len(load_poses(str(tmp_path / f'{seq}_pred.txt'))) == len(gt)
    n09, n10 = ref['09'][2], ref['10'][2]
    mean_t = (ref['09'][0] * n09 + ref['10'][0] * n10) / (n09 + n10)
    assert res['kitti/t_rel'] == pytest.approx(mean_t, rel=1e-6)
    for key in ('ate', 'ate_sim3', 'rpe_t', 'rpe_r', 'constant_velocity/t_rel',
                'constant_velocity/ate'):
        assert np.isfinite(res[f'kitti/{key}'])


def test_metric_chains_frame_gap(trajectories, tmp_path):
    gts, _ = trajectories
    gt = gts['09'][:301]
    metric = KittiOdomMetric(outfile_prefix=str(tmp_path), save_plots=False)
    # Pairs (t, t + 3) for every t: the chain is 0, 3, 6, ..., 300.
    metric.process({}, _samples(gt, gt, '09', gap=3))
    res = metric.evaluate(len(metric.results))
    assert res['kitti/ate'] < 1e-4
    frames = np.loadtxt(tmp_path / '09_frames.txt')
    np.testing.assert_array_equal(frames, np.arange(0, 301, 3))


def test_metric_broken_chain_raises(trajectories):
    gts, _ = trajectories
    gt = gts['09'][:50]
    samples = _samples(gt, gt, '09')
    del samples[20]
    metric = KittiOdomMetric(outfile_prefix=None, save_plots=False)
    metric.process({}, samples)
    with pytest.raises(ValueError, match='starting at frame 20'):
        metric.evaluate(len(samples))


def test_metric_rejects_bad_prediction():
    metric = KittiOdomMetric()
    bad = np.eye(4)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match='pred_pose'):
        metric.process({}, [
            dict(seq='00', frame_ids=(0, 1), gt_pose=np.eye(4), pred_pose=bad)
        ])


def test_default_output_is_the_run_log_dir(trajectories, tmp_path):
    from mmengine.logging import MMLogger
    log_dir = tmp_path / '20240101_000000'
    log_dir.mkdir()
    MMLogger.get_instance(
        'odom_metric_test', log_file=str(log_dir / '20240101_000000.log'))
    gts, _ = trajectories
    gt = gts['10'][:20]
    metric = KittiOdomMetric(save_plots=False)
    metric.process({}, _samples(gt, gt, '10'))
    metric.evaluate(len(metric.results))
    assert osp.isfile(log_dir / 'trajectories' / '10_gt.txt')


def test_mean_motion_baseline(trajectories, tmp_path):
    """The sensor-free baseline is a prediction of one fixed motion: its
    metrics equal those of a model that predicts that motion."""
    gts, _ = trajectories
    gt = gts['09'][:300]
    motion = [0.0, -0.015, 0.87, 0.0, 0.002, 0.0]
    step = make_pose(so3_exp(np.array(motion[3:])), np.array(motion[:3]))
    samples = _samples(gt, gt, '09')
    for s in samples:
        s['pred_pose'] = step
    metric = KittiOdomMetric(
        baselines=('mean_motion', ),
        mean_motion=motion,
        outfile_prefix=str(tmp_path),
        save_plots=False)
    metric.process({}, samples)
    res = metric.evaluate(len(samples))
    assert res['kitti/t_rel'] > 1.0  # far from the true motion
    for key in ('t_rel', 'r_rel', 'ate', 'rpe_t'):
        assert res[f'kitti/mean_motion/{key}'] == pytest.approx(
            res[f'kitti/{key}'], rel=1e-9)
    assert osp.isfile(tmp_path / '09_mean_motion.txt')
    with pytest.raises(ValueError, match='needs `mean_motion`'):
        KittiOdomMetric(baselines=('mean_motion', ))
    with pytest.raises(ValueError, match='6 finite values'):
        KittiOdomMetric(baselines=('mean_motion', ), mean_motion=[1.0] * 5)


def test_gates_are_written_with_the_trajectories(trajectories, tmp_path):
    gts, _ = trajectories
    gt = gts['09'][:40]
    samples = _samples(gt, gt, '09')
    rng = np.random.default_rng(0)
    for s in samples:
        s['pred_gates'] = rng.uniform(0, 1, 3).astype(np.float32)
        s['gate_modalities'] = ('visual', 'point', 'imu')
    metric = KittiOdomMetric(outfile_prefix=str(tmp_path), save_plots=False)
    metric.process({}, samples[::-1])
    metric.evaluate(len(samples))
    path = tmp_path / '09_gates.txt'
    assert path.read_text().splitlines()[0] == '# frame visual point imu'
    rows = np.loadtxt(path)
    assert rows.shape == (39, 4)
    np.testing.assert_array_equal(rows[:, 0], np.arange(39))
    np.testing.assert_allclose(
        rows[:, 1:], [s['pred_gates'] for s in samples], atol=1e-6)
    # no gates, no file
    metric = KittiOdomMetric(
        outfile_prefix=str(tmp_path / 'b'), save_plots=False)
    metric.process({}, _samples(gt, gt, '09'))
    metric.evaluate(39)
    assert not osp.exists(tmp_path / 'b' / '09_gates.txt')
