"""ScanRegistration (small_gicp VGICP) recovers known motions, agrees with
itself on real KITTI scans and checks its inputs."""
import os.path as osp
import time

import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.testing import generate_hard_sample
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (load_calib,
                                                                 load_poses,
                                                                 load_times,
                                                                 load_velodyne)
from projects.trimodal_odom.trimodal_odom.utils.registration import (
    QUALITY_NAMES, ScanRegistration, register_scans, registration_quality,
    remap_degenerate)
from projects.trimodal_odom.trimodal_odom.utils.se3 import (make_pose,
                                                            rotation_angle,
                                                            se3_inverse,
                                                            so3_exp)

REAL_SCANS = osp.join(
    osp.dirname(__file__), '..', '..', 'data', 'kitti', 'real_scans')


def street(rng: np.random.Generator, n: int = 6000) -> np.ndarray:
    """Points (n, 3) on a ground plane, two walls and a few boxes: a scene
    that constrains all six degrees of freedom."""
    parts = []
    k = n // 4
    g = rng.uniform([-30, -30], [30, 30], (k, 2))
    parts.append(np.c_[g, np.full(k, -1.7) + 0.05 * np.sin(g[:, 0] / 3)])
    for y in (-8.0, 8.0):
        w = rng.uniform([-30, -1.7], [30, 3.0], (k // 2, 2))
        parts.append(np.c_[w[:, 0], np.full(k // 2, y), w[:, 1]])
    for cx, cy in ((5.0, 4.0), (-7.0, -3.0), (14.0, -5.0)):
        f = rng.uniform([-1, -1.7], [1, 1.0], (k // 3, 2))
        parts.append(np.c_[np.full(k // 3, cx), cy + f[:, 0], f[:, 1]])
        parts.append(np.c_[cx + f[:, 0], np.full(k // 3, cy + 1), f[:, 1]])
    return np.concatenate(parts)


def errors(T_a: np.ndarray, T_b: np.ndarray):
    """Translation (cm) and rotation (deg) of ``inv(T_a) @ T_b``."""
    err = se3_inverse(T_a) @ T_b
    return (100 * np.linalg.norm(err[:3, 3]),
            np.degrees(rotation_angle(err[:3, :3])))


@pytest.mark.parametrize('init_offset', [0.0, 3.0])
def test_recovers_a_driving_motion(init_offset):
    rng = np.random.default_rng(0)
    world = street(rng, 20000)
    # the scan at t+1 sees the scene after 1.1 m forward and 3 deg of yaw
    T_true = make_pose(
        so3_exp(np.array([0.002, -0.003, 0.052])), np.array([1.1, 0.05, 0.02]))
    target = world[::2] + 0.005 * rng.standard_normal(world[::2].shape)
    source = world[1::2] @ se3_inverse(T_true)[:3, :3].T + \
        se3_inverse(T_true)[:3, 3]
    # an initial guess 3 m off: the coarse level brings it back
    init = make_pose(np.eye(3), np.array([-init_offset, 0.0, 0.0]))
    T, info = register_scans(source, target, init=init)
    assert info['converged'] and info['iterations'] > 1
    assert info['num_correspondences'] > len(source) // 10
    t_err, r_err = errors(T_true, T)
    assert t_err < 1.0 and r_err < 0.05, (t_err, r_err)


def test_too_few_correspondences_is_reported_not_raised():
    rng = np.random.default_rng(1)
    target = street(rng, 2000)
    source = target + np.array([500.0, 0.0, 0.0])  # beyond every gate
    T, info = register_scans(source, target)
    assert not info['converged']
    assert info['num_correspondences'] == 0
    np.testing.assert_array_equal(T, np.eye(4))


@pytest.mark.parametrize('source, target, init, match', [
    (np.zeros((10, 2)), np.zeros((20, 3)), None, r'source must be \(N, 3\)'),
    (np.full((10, 3), np.nan), np.zeros((20, 3)), None, 'source contains'),
    (street(np.random.default_rng(2), 2000), np.full(
        (5, 3), 5.0), None, 'target has 5 points between 2.0 and inf m'),
    (np.full((30, 3), 5.0), np.full(
        (30, 3), 5.0), None, 'source has 1 points after voxel downsampling'),
    (street(np.random.default_rng(3), 2000),
     street(np.random.default_rng(4), 2000), np.eye(3), 'init must be'),
])
def test_bad_inputs(source, target, init, match):
    with pytest.raises(ValueError, match=match):
        register_scans(source, target, init=init)


def test_bad_settings():
    with pytest.raises(ValueError, match='one value per level'):
        ScanRegistration(voxel_sizes=(3.0, 0.8), max_correspondence=(1.0, ))
    with pytest.raises(ValueError, match='must be positive'):
        ScanRegistration(downsample=0.0)
    with pytest.raises(ValueError, match='max_range'):
        ScanRegistration(min_range=5.0, max_range=2.0)


def test_real_scans_agree_composed_and_direct():
    """0 -> 1 -> 2 composed against 0 -> 2 registered directly, on a
    voxel-downsampled copy of three consecutive real HDL-64 scans."""
    reg = ScanRegistration()
    scans = [
        load_velodyne(osp.join(REAL_SCANS, f'{i:06d}.bin')) for i in range(3)
    ]
    prepared = [reg.prepare(s) for s in scans]  # also warms the library up
    T, times = {}, []
    for a, b in ((0, 1), (1, 2), (0, 2)):
        start = time.perf_counter()
        T[a, b], info = reg(scans[b], scans[a])
        times.append(time.perf_counter() - start)
        assert info['converged'], (a, b, info)
    t_err, r_err = errors(T[0, 1] @ T[1, 2], T[0, 2])
    print(f'real scans ({", ".join(str(len(s)) for s in scans)} points): '
          f'{1000 * np.median(times):.1f} ms a pair; composed vs direct '
          f'{t_err:.2f} cm, {r_err:.3f} deg')
    # the car drives about 0.7 m forward a frame
    for key in ((0, 1), (1, 2)):
        assert 0.6 < T[key][0, 3] < 0.8, T[key]
    assert t_err < 2.0 and r_err < 0.05, (t_err, r_err)
    # prepared once, registered the same way
    T01, _ = reg.align(prepared[1], prepared[0])
    np.testing.assert_array_equal(T01, T[0, 1])


def test_deskewing_brings_swept_scans_closer(tmp_path):
    """On the swept scans of the hard sample (about 9 m/s), deskewing with
    the pair's own motion or with the true rotation (as the gyro gives it)
    halves the registration's error on the frames before the failure
    stretches; plain registration keeps the skew."""
    root = str(tmp_path)
    generate_hard_sample(root, preset='hard-tiny')
    seq_dir = osp.join(root, 'sequences', '00')
    poses = load_poses(osp.join(root, 'poses', '00.txt'))
    times = load_times(osp.join(seq_dir, 'times.txt'))
    Tr = load_calib(osp.join(seq_dir, 'calib.txt'))['Tr']
    regs = {m: ScanRegistration(deskew=m) for m in (None, 'motion', 'imu')}
    err = {m: [] for m in regs}
    for i in range(8):
        target, source = (
            load_velodyne(osp.join(seq_dir, 'velodyne', f'{j:06d}.bin'))[:, :3]
            for j in (i, i + 1))
        gt = se3_inverse(Tr) @ se3_inverse(poses[i]) @ poses[i + 1] @ Tr
        for mode, reg in regs.items():
            T, info = reg.register(source, target, times[i + 1] - times[i],
                                   gt[:3, :3])
            assert info['converged'] and info['deskew'] == mode
            err[mode].append(errors(gt, T))
    plain, motion, imu = (np.mean(err[m], axis=0) for m in regs)
    assert 0.6 < plain[0] < 2.0, plain  # cm
    for deskewed in (motion, imu):
        assert deskewed[0] < 0.7 * plain[0] and deskewed[1] < plain[1], (
            plain, deskewed)


def test_deskewing_needs_the_time_between_frames():
    rng = np.random.default_rng(3)
    scan = street(rng, 4000)
    with pytest.raises(ValueError, match='positive time between'):
        ScanRegistration(deskew='motion').register(scan, scan)
    with pytest.raises(ValueError, match='deskew must be one of'):
        ScanRegistration(deskew='imu-only')


def corridor(rng: np.random.Generator, n: int = 6000) -> np.ndarray:
    """Points (n, 3) on a ground plane and two parallel walls along x:
    nothing fixes the translation along the corridor."""
    k = n // 3
    g = rng.uniform([-30, -4], [30, 4], (k, 2))
    parts = [np.c_[g, np.full(k, -1.7)]]
    for y in (-4.0, 4.0):
        w = rng.uniform([-30, -1.7], [30, 3.0], (k, 2))
        parts.append(np.c_[w[:, 0], np.full(k, y), w[:, 1]])
    return np.concatenate(parts)


def test_quality_sees_a_degenerate_registration():
    """The quality vector of a corridor, whose geometry leaves the
    translation along it free, against a street that constrains every
    direction: the Hessian's translation block is ill-conditioned and its
    weakest direction weak, while both registrations 'converge'."""
    rng = np.random.default_rng(0)
    T = make_pose(so3_exp(np.array([0.0, 0.0, 0.01])), np.array([0.8, 0, 0]))
    quality = {}
    for name, scene in (('street', street), ('corridor', corridor)):
        world = scene(rng, 20000)
        target = world[::2] + 0.005 * rng.standard_normal(world[::2].shape)
        source = world[1::2] @ se3_inverse(T)[:3, :3].T + se3_inverse(T)[:3, 3]
        _, info = ScanRegistration()(source, target)
        assert info['converged'] and info['hessian'].shape == (6, 6)
        assert 0 < info['num_correspondences'] <= info['num_source_points']
        q = dict(zip(QUALITY_NAMES, registration_quality(info)))
        assert q['converged'] == 1 and 0.2 < q['inlier_ratio'] <= 1
        quality[name] = q
    street_q, corridor_q = quality['street'], quality['corridor']
    assert corridor_q['log_trans_condition'] > \
        street_q['log_trans_condition'] + 0.3, quality
    assert corridor_q['log_trans_constraint'] < \
        street_q['log_trans_constraint'] - 0.3, quality


def test_quality_of_a_failed_registration():
    rng = np.random.default_rng(0)
    cloud = rng.uniform(-20, 20, (500, 3))
    _, info = ScanRegistration()(cloud + [500.0, 0, 0], cloud)
    q = registration_quality(info)
    assert q.shape == (len(QUALITY_NAMES), ) and np.isfinite(q).all()
    assert q[0] == 0 and q[1] == 0


def test_remapping_keeps_the_prediction_in_free_directions_only():
    """A Hessian with a weak translation direction (x) and a weak rotation
    direction (yaw): the correction along them is dropped, the rest kept."""
    H = np.diag([1e4, 1e4, 1e-1, 1e-1, 2e3, 3e3])
    prediction = make_pose(
        so3_exp(np.array([0.0, 0.0, 0.05])), np.array([1.0, 0.1, 0.0]))
    delta_rot, delta_trans = np.array([0.01, -0.02,
                                       0.03]), np.array([0.4, 0.05, -0.02])
    T = prediction @ make_pose(so3_exp(delta_rot), delta_trans)
    remapped, free = remap_degenerate(T, prediction, H, 0.01)
    assert free == (1, 1)
    step = se3_inverse(prediction) @ remapped
    np.testing.assert_allclose(step[:3, 3], [0.0, 0.05, -0.02], atol=1e-9)
    np.testing.assert_allclose(
        so3_exp(np.array([0.01, -0.02, 0.0])), step[:3, :3], atol=1e-3)
    # nothing weak: the estimate itself
    same, free = remap_degenerate(T, prediction, np.eye(6), 0.01)
    assert free == (0, 0)
    np.testing.assert_allclose(same, T, atol=1e-9)


def test_remapping_fills_free_directions_from_another_sensor():
    """With ``fill`` the weak directions take the other sensor's motion,
    the constrained ones stay the registration's."""
    H = np.diag([1e4, 1e4, 1e-1, 1e-1, 2e3, 3e3])
    prediction = make_pose(np.eye(3), np.array([1.0, 0.0, 0.0]))
    T = make_pose(
        so3_exp(np.array([0.0, 0.0, 0.01])), np.array([1.4, 0.05, 0.0]))
    camera = make_pose(
        so3_exp(np.array([0.002, 0.0, 0.03])), np.array([1.1, 0.3, 0.2]))
    remapped, free = remap_degenerate(T, prediction, H, 0.01, fill=camera)
    assert free == (1, 1)
    # x and the yaw from the camera; y, z and roll / pitch from T
    np.testing.assert_allclose(remapped[:3, 3], [1.1, 0.05, 0.0], atol=1e-9)
    np.testing.assert_allclose(
        remapped[:3, :3], so3_exp(np.array([0.0, 0.0, 0.03])), atol=1e-9)
    # a converged, well-constrained pair ignores the fill
    same, _ = remap_degenerate(T, prediction, np.eye(6), 0.01, fill=camera)
    np.testing.assert_allclose(same, T, atol=1e-9)


def test_a_failed_registration_takes_the_fill_whole():
    target = street(np.random.default_rng(1), 2000)
    source = target + np.array([500.0, 0.0, 0.0])  # beyond every gate
    reg = ScanRegistration(
        predict='motion', min_eigen_ratio=0.02, fill_camera={})
    camera = make_pose(np.eye(3), np.array([0.9, 0.0, 0.0]))
    T, info = reg.register(source, target, fill=camera)
    assert not info['converged'] and info['filled']
    np.testing.assert_allclose(T, camera)
    assert 'fill_camera' in reg.settings()
    assert reg.settings()['fill_camera']['method'] == 'lk-pnp-lidar-depth'
    with pytest.raises(ValueError, match='fill_camera fills'):
        ScanRegistration(predict='motion', fill_camera={})


def test_sequential_registration_holds_a_corridor_on_its_prediction():
    """Along a corridor nothing fixes the travel direction: registered from
    the identity, the estimate stays about where it started; registered
    from the previous pair's motion with the remapping, the free direction
    keeps that prediction and the others come from the scans."""
    rng = np.random.default_rng(0)
    T_true = make_pose(
        so3_exp(np.array([0.0, 0.0, 0.004])), np.array([1.2, 0.03, 0.0]))
    world = corridor(rng, 20000)
    target = world[::2] + 0.005 * rng.standard_normal(world[::2].shape)
    source = world[1::2] @ se3_inverse(T_true)[:3, :3].T + \
        se3_inverse(T_true)[:3, 3]
    plain, _ = ScanRegistration()(source, target)
    # the previous pair moved 1.25 m forward and 0.1 m sideways
    previous = make_pose(np.eye(3), np.array([1.25, 0.1, 0.0]))
    reg = ScanRegistration(predict='motion', min_eigen_ratio=0.01)
    assert reg.sequential
    T, info = reg.register(source, target, previous=previous)
    assert info['converged'] and info['free_directions'][1] == 1, info
    np.testing.assert_allclose(info['prediction'], previous)
    # the travel direction: the prediction's 1.25 m, not the identity's 0
    assert abs(T[0, 3] - 1.25) < 0.02 and abs(plain[0, 3] - 1.2) > 0.3
    # the lateral offset and the yaw: from the walls, not the prediction
    assert abs(T[1, 3] - 0.03) < 0.02
    assert abs(rotation_angle(T[:3, :3].T @ T_true[:3, :3])) < 1e-3
    # without a previous pair the identity is predicted
    _, first = reg.register(source, target)
    np.testing.assert_allclose(first['prediction'], np.eye(4))


def test_imu_prediction_takes_the_gyro_rotation():
    reg = ScanRegistration(predict='imu')
    previous = make_pose(so3_exp(np.array([0, 0, 0.02])), np.array([1., 0, 0]))
    gyro = so3_exp(np.array([0.0, 0.0, 0.05]))
    P = reg.prediction(previous, gyro)
    np.testing.assert_allclose(P[:3, :3], gyro)
    np.testing.assert_allclose(P[:3, 3], [1.0, 0, 0])
    # without an IMU window: the previous estimate
    np.testing.assert_allclose(reg.prediction(previous), previous)


def test_sequential_settings():
    # the key of a pair-by-pair registration does not change
    assert 'predict' not in ScanRegistration().settings()
    settings = ScanRegistration(
        predict='motion', min_eigen_ratio=0.02).settings()
    assert settings['predict'] == 'motion'
    assert settings['min_eigen_ratio'] == 0.02
    with pytest.raises(ValueError, match='min_eigen_ratio needs predict'):
        ScanRegistration(min_eigen_ratio=0.02)
    with pytest.raises(ValueError, match='min_eigen_ratio needs predict'):
        ScanRegistration(predict='motion', min_eigen_ratio=1.5)
    with pytest.raises(ValueError, match='predict must be one of'):
        ScanRegistration(predict='gps')
