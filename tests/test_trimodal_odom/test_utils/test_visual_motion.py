"""VisualMotion: the motion of a camera over a textured road and wall,
from two ray-cast images and the earlier frame's LiDAR points."""
import cv2
import numpy as np
import pytest

from projects.trimodal_odom.trimodal_odom.utils.se3 import (make_pose,
                                                            se3_inverse,
                                                            so3_exp, so3_log)
from projects.trimodal_odom.trimodal_odom.utils.visual_motion import (
    VisualMotion, camera_from_velo)

K = np.array([[500.0, 0, 320], [0, 500.0, 120], [0, 0, 1]])
SIZE = (240, 640)
# LiDAR (x forward, y left, z up) to camera 0 (x right, y down, z forward),
# 0.27 m behind and 0.08 m below the LiDAR as in KITTI
TR = np.array([[0.0, -1, 0, 0], [0, 0, -1, -0.08], [1, 0, 0, -0.27],
               [0, 0, 0, 1]])
# the colour camera 6 cm left of camera 0
P2 = K @ np.c_[np.eye(3), [0.06, 0, 0]]
GROUND, WALL = 1.65, 5.0  # camera 2 at the first frame: y down, x right


def texture(points: np.ndarray, on_wall: np.ndarray) -> np.ndarray:
    """Blocky pseudo-random grey levels of cells of 0.25 m."""
    u = np.where(on_wall, points[:, 2], points[:, 0])
    v = np.where(on_wall, points[:, 1], points[:, 2])
    cells = np.floor(np.c_[u, v] / 0.25).astype(np.int64)
    h = (cells[:, 0] * 73856093) ^ (cells[:, 1] * 19349663) ^ (on_wall * 7)
    return 60 + (h % 97) * 1.6


def render(pose: np.ndarray, wall: bool = True) -> np.ndarray:
    """Image of camera 2 at ``pose`` (world = camera 2 at the first
    frame): a textured ground and (``wall``) a wall on the right."""
    v, u = np.mgrid[:SIZE[0], :SIZE[1]]
    rays = np.c_[u.ravel(), v.ravel(), np.ones(u.size)] @ np.linalg.inv(K).T
    dirs = rays @ pose[:3, :3].T
    origin = pose[:3, 3]
    with np.errstate(divide='ignore', invalid='ignore'):
        t_ground = np.where(dirs[:, 1] > 0, (GROUND - origin[1]) / dirs[:, 1],
                            np.inf)
        t_wall = np.where(wall & (dirs[:, 0] > 0),
                          (WALL - origin[0]) / dirs[:, 0], np.inf)
    t = np.minimum(t_ground, t_wall)
    hit = np.isfinite(t) & (t < 80)
    points = origin + dirs * np.where(hit, t, 0)[:, None]
    grey = np.where(hit, texture(points, t_wall < t_ground), 200.0)
    image = grey.reshape(SIZE).astype(np.float32)
    return np.clip(cv2.GaussianBlur(image, (3, 3), 0.8), 0,
                   255).astype(np.uint8)


def lidar_points(T_cam_velo: np.ndarray, wall: bool = True) -> np.ndarray:
    """Points of the ground and (``wall``) the wall around the first frame,
    in the LiDAR frame (a 0.2 m grid, as dense as a 64-beam scan nearby)."""
    x, z = np.meshgrid(
        np.arange(-12, WALL if wall else 12, 0.2), np.arange(2, 40, 0.2))
    cam = np.c_[x.ravel(), np.full(x.size, GROUND), z.ravel()]
    if wall:
        y, z = np.meshgrid(np.arange(-6, GROUND, 0.2), np.arange(2, 40, 0.2))
        cam = np.r_[cam, np.c_[np.full(y.size, WALL), y.ravel(), z.ravel()]]
    return cam @ se3_inverse(T_cam_velo)[:3, :3].T + se3_inverse(
        T_cam_velo)[:3, 3]


@pytest.fixture(scope='module')
def scene():
    Kc, T_cam_velo = camera_from_velo(TR, P2)
    # the later camera: 0.9 m forward, 4 cm right, yawed 1.5 deg
    motion = make_pose(
        so3_exp(np.array([0, np.deg2rad(1.5), 0])), np.array([0.04, 0, 0.9]))
    images = render(np.eye(4)), render(motion)
    truth = se3_inverse(T_cam_velo) @ motion @ T_cam_velo
    return dict(
        K=Kc,
        T_cam_velo=T_cam_velo,
        images=images,
        points=lidar_points(T_cam_velo),
        truth=truth)


def test_camera_from_velo():
    Kc, T = camera_from_velo(TR[:3], P2)
    np.testing.assert_allclose(Kc, K)
    # the colour camera sees a LiDAR point 6 cm further right than camera 0
    p = np.array([10.0, 0, 0, 1])
    np.testing.assert_allclose((T @ p)[:3] - (TR @ p)[:3], [0.06, 0, 0])


def test_recovers_the_motion(scene):
    T, info = VisualMotion().estimate(*scene['images'], scene['points'],
                                      scene['K'], scene['T_cam_velo'])
    assert info['converged'], info
    assert info['num_inliers'] >= 100 and info['rms'] < 0.5
    err = se3_inverse(scene['truth']) @ T
    assert np.linalg.norm(err[:3, 3]) < 0.01  # 0.35 cm when measured
    assert np.rad2deg(np.linalg.norm(so3_log(err[:3, :3]))) < 0.05


def test_a_dark_image_does_not_converge(scene):
    guess = make_pose(np.eye(3), np.array([0.8, 0, 0]))
    dark = (scene['images'][1] // 40).astype(np.uint8)  # 0-6 grey levels
    rng = np.random.default_rng(0)
    dark = np.clip(dark + rng.normal(0, 3, dark.shape), 0,
                   255).astype(np.uint8)
    T, info = VisualMotion().estimate(scene['images'][0], dark,
                                      scene['points'], scene['K'],
                                      scene['T_cam_velo'], guess)
    assert not info['converged']
    np.testing.assert_array_equal(T, guess)


def test_without_depth_nothing_is_estimated(scene):
    far = scene['points'] + np.array([0, 0, 500.0])  # none in the image
    _, info = VisualMotion().estimate(*scene['images'], far, scene['K'],
                                      scene['T_cam_velo'])
    assert info['num_with_depth'] == 0 and not info['converged']


def test_bad_arguments(scene):
    with pytest.raises(ValueError, match='differ in size'):
        VisualMotion().estimate(scene['images'][0], scene['images'][1][:100],
                                scene['points'], scene['K'],
                                scene['T_cam_velo'])
    with pytest.raises(ValueError, match='min_inliers'):
        VisualMotion(min_inliers=3)
    with pytest.raises(ValueError, match='min_depth'):
        VisualMotion(min_depth=50, max_depth=10)
    assert VisualMotion().settings()['method'] == 'lk-pnp-lidar-depth'


def test_tracks_far_from_the_prediction_are_dropped(scene):
    """With ``max_prediction_error`` a corner must end near where the
    guessed motion puts it: a guess 0.5 m off leaves too few."""
    good, info = VisualMotion(
        max_prediction_error=1.0).estimate(*scene['images'], scene['points'],
                                           scene['K'], scene['T_cam_velo'],
                                           scene['truth'])
    assert info['converged']
    np.testing.assert_allclose(good[:3, 3], scene['truth'][:3, 3], atol=0.02)
    off = scene['truth'] @ make_pose(np.eye(3), np.array([0.5, 0, 0]))
    _, info = VisualMotion(
        max_prediction_error=1.0).estimate(*scene['images'], scene['points'],
                                           scene['K'], scene['T_cam_velo'],
                                           off)
    assert not info['converged'] and info['num_tracked'] < 40


def test_a_held_rotation_is_kept_and_the_translation_solved(scene):
    """With ``hold_rotation`` the given rotation (a gyro's) is the
    estimate's and the translation is solved for it; without, the rotation
    given is ignored."""
    truth = scene['truth']
    args = (*scene['images'], scene['points'], scene['K'], scene['T_cam_velo'])
    T, info = VisualMotion(hold_rotation=True).estimate(
        *args, rotation=truth[:3, :3])
    assert info['converged'] and info['num_inliers'] >= 100, info
    np.testing.assert_allclose(T[:3, :3], truth[:3, :3], atol=1e-12)
    free, _ = VisualMotion().estimate(*args)
    # 6.5 mm against 8.1 mm when measured
    held_error = np.linalg.norm(T[:3, 3] - truth[:3, 3])
    assert held_error < 0.9 * np.linalg.norm(free[:3, 3] - truth[:3, 3])
    # a yaw 0.5 deg off is held: the translation follows it sideways
    off = truth[:3, :3] @ so3_exp(np.array([0, 0, np.deg2rad(0.5)]))
    T_off, _ = VisualMotion(hold_rotation=True).estimate(*args, rotation=off)
    np.testing.assert_allclose(T_off[:3, :3], off, atol=1e-12)
    assert np.linalg.norm(T_off[:3, 3] - truth[:3, 3]) > 0.01
    ignored, _ = VisualMotion().estimate(*args, rotation=off)
    np.testing.assert_array_equal(ignored, free)
    assert VisualMotion(hold_rotation=True).settings()['hold_rotation']


def test_the_road_is_tracked_in_the_warped_image():
    """An open road (the ground alone, 1.2 m forward): the perspective
    stretches the road between the frames more than a Lucas-Kanade window
    follows, and too few tracks are left to converge; with
    ``ground_warp`` the corners on the ground are tracked in the later
    image warped by the ground's homography under the guess, and the
    motion is recovered."""
    Kc, T_cam_velo = camera_from_velo(TR, P2)
    motion = make_pose(
        so3_exp(np.array([0, np.deg2rad(1.0), 0])), np.array([0.03, 0, 1.2]))
    truth = se3_inverse(T_cam_velo) @ motion @ T_cam_velo
    args = (render(np.eye(4), wall=False), render(motion, wall=False),
            lidar_points(T_cam_velo, wall=False), Kc, T_cam_velo, truth)
    _, plain = VisualMotion().estimate(*args)
    assert not plain['converged'] and 'num_ground' not in plain, plain
    T, info = VisualMotion(ground_warp=True).estimate(*args)
    assert info['converged'], info
    # 290 of 345 corners with a depth on the ground, 253 tracks (78
    # without the warp), 195 inliers, 2.9 cm off when measured
    assert info['num_ground'] > 0.7 * info['num_with_depth']
    assert info['num_tracked'] > 2 * plain['num_tracked']
    assert np.linalg.norm(T[:3, 3] - truth[:3, 3]) < 0.05
    assert VisualMotion(ground_warp=True).settings()['ground_warp']
    # with the wall: the wall is not taken for ground, and the ground's
    # tracks improve the motion (0.64 cm off against 2.18 cm when measured)
    scene_args = (render(np.eye(4)), render(motion), lidar_points(T_cam_velo),
                  Kc, T_cam_velo, truth)
    free, _ = VisualMotion().estimate(*scene_args)
    T, info = VisualMotion(ground_warp=True).estimate(*scene_args)
    assert info['converged'] and info['num_ground'] < info['num_with_depth']
    assert np.linalg.norm(T[:3, 3] -
                          truth[:3, 3]) < 0.5 * np.linalg.norm(free[:3, 3] -
                                                               truth[:3, 3])


def test_a_second_pass_starts_from_the_first():
    """From a guess 10 cm off, a second pass (``passes=2``) deskews,
    predicts and warps from the first pass's estimate: the error shrinks
    (1.1 to 0.46 cm with the held rotation when measured)."""
    Kc, T_cam_velo = camera_from_velo(TR, P2)
    motion = make_pose(
        so3_exp(np.array([0, np.deg2rad(1.0), 0])), np.array([0.03, 0, 1.2]))
    truth = se3_inverse(T_cam_velo) @ motion @ T_cam_velo
    guess = truth @ make_pose(np.eye(3), np.array([0.1, 0.033, 0]))
    args = (render(np.eye(4)), render(motion), lidar_points(T_cam_velo), Kc,
            T_cam_velo, guess)
    errors = []
    for passes in (1, 2):
        T, info = VisualMotion(
            hold_rotation=True, passes=passes).estimate(
                *args, rotation=truth[:3, :3])
        assert info['converged']
        errors.append(np.linalg.norm(T[:3, 3] - truth[:3, 3]))
    assert errors[1] < 0.6 * errors[0], errors
    with pytest.raises(ValueError, match='passes'):
        VisualMotion(passes=0)
