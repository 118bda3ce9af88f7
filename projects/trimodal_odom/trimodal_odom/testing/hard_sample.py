"""The ``hard`` presets of the KITTI sample: every sensor fails somewhere.

Written in the layouts of :mod:`.kitti_sample` (odometry release, raw OXTS
drives), along stretches of the real trajectories of sequences 00-10, with
what makes real KITTI hard and the ``tiny`` / ``demo`` presets easy:

- LiDAR scans swept like an HDL-64E (:mod:`.swept_lidar`): 64 beams, one
  revolution per 0.1 s, every column taken from the pose of its own time,
  so scans are skewed by the motion; 2 cm range noise and dropouts, more
  for far and dark surfaces;
- cars driving through the scene on their own trajectories
  (:mod:`.moving_cars`), seen by the camera and the LiDAR at their times;
- stretches where one sensor fails (:mod:`.sensor_failures`): open roads
  and featureless corridors for the LiDAR, dark, overexposed and
  motion-blurred frames for the camera; the manifest says where;
- an IMU with the noise and bias of KITTI's OXTS RT3003 as measured on the
  real recordings (below), or (``imu_root``) the recorded IMU of the same
  real drive (the sequences start at its frame 0);
- sequences without ground truth (no ``poses/XX.txt``, no raw drive, as
  KITTI 11-21) for self-supervised fine-tuning.

IMU error model: white noise per 100 Hz packet of 0.0025 rad/s (gyro) and
0.07 m/s^2 (accelerometer), and a constant bias per sequence drawn with
standard deviations 1.75e-4 rad/s (0.01 deg/s) and 0.05 m/s^2. Measured on
the real KITTI IMU of sequences 00, 05, 09 and 10 (``imus/XX.mat`` of the
shared fixtures, 100 Hz, against the ground-truth rotations): high-pass
sample-to-sample spread 0.05-0.19 deg/s (gyro, vibration included) and
0.03-0.08 m/s^2 (accelerometer), gyro bias 0.0005-0.02 deg/s.

Presets: ``hard`` (sequences 00-07 stretches of 150 frames for training,
09 and 10 of 400 frames held out, 11-13 unlabelled stretches of 00, 02 and
05 beyond the training frames; 320x96 images, 64x1024 rays; several
minutes on one core) and ``hard-tiny`` (40 frames of 00, 96x32 images,
16x256 rays; for tests). Either can be rendered with other images
(``image_size``, e.g. KITTI's 1241 x 376: about 3 s a frame on one core
instead of 0.34 s) and the same scans, poses and IMU.
"""
import multiprocessing
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from ..converters.kitti_drives import KITTI_ODOM_DRIVES
from ..utils.deskew import SWEEP_TIME
from ..utils.kitti_io import load_poses
from .kitti_sample import (TRAJECTORY_DIR, _camera_rays, _frame_times,
                           _remove_stale, _write_raw, _write_text,
                           image_size_setting, kitti_calibration)
from .moving_cars import MovingCars
from .sensor_failures import (camera_failure, expose, plan_stretches,
                              scene_layout)
from .stamps import remove_stamp, write_stamp
from .swept_lidar import SensorTrajectory, SweptLidar
from .synthetic_imu import GRAVITY
from .synthetic_scene import SyntheticScene, path_arcs

_IMU = dict(
    imu_noise=dict(acc=0.07, gyro=0.0025),
    imu_bias_std=dict(acc=0.05, gyro=1.75e-4),
    extract_rate=100.0)
# the failures of the training sequences, in turn, and of the held-out ones;
# the first 150 frames of 03 and 07 turn too much for a LiDAR stretch (which
# needs a straight road): only the camera fails there
_TRAIN = (('corridor', 'dark'), ('open_road', 'overexposed'), ('corridor',
                                                               'blur'))
_CAMERA_ONLY = {'03': ('dark', 'blur'), '07': ('overexposed', 'blur')}
_HELD_OUT = ('open_road', 'corridor', 'dark', 'overexposed', 'blur')
HARD_PRESETS = {
    'hard':
    dict(
        _IMU,
        image_size=(320, 96),
        image_noise=2.0,
        lidar=dict(beams=64, azimuths=1024, max_range=80.0),
        parked_lateral=3.6,
        traffic_spacing=60.0,
        stretch=dict(length=(20, 30), gap=10, lead=15),
        sequences={
            **{
                f'{i:02d}':
                dict(
                    frames=150,
                    failures=_CAMERA_ONLY.get(f'{i:02d}', _TRAIN[i % 3]))
                for i in range(8)
            },
            **{
                seq: dict(frames=600, failures=_HELD_OUT, isolate=True)
                for seq in ('09', '10')
            },
            '11':
            dict(
                source='00',
                start=300,
                frames=150,
                labelled=False,
                failures=('open_road', 'dark')),
            '12':
            dict(
                source='02',
                start=300,
                frames=150,
                labelled=False,
                failures=('corridor', 'blur')),
            '13':
            dict(
                source='05',
                start=300,
                frames=150,
                labelled=False,
                failures=('corridor', 'overexposed')),
        }),
    'hard-tiny':
    dict(
        _IMU,
        image_size=(96, 32),
        image_noise=2.0,
        lidar=dict(beams=16, azimuths=256, max_range=40.0),
        parked_lateral=3.6,
        traffic_spacing=25.0,
        stretch=dict(length=(6, 8), gap=3, lead=5),
        sequences={'00': dict(frames=40, failures=('open_road', 'dark'))}),
}


def _trajectory(seq: str, plan: dict, poses_root: Optional[str]):
    """Poses (N, 4, 4) of a planned sequence: ``frames`` real poses of its
    source from ``start``, re-based to start at the identity."""
    source = plan.get('source', seq)
    start, num = plan.get('start', 0), plan['frames']
    path = osp.join(poses_root or TRAJECTORY_DIR, f'{source}.txt')
    if not osp.isfile(path):
        raise ValueError(f'sequence {seq}: trajectory {path} not found; '
                         '--poses-root takes a folder of KITTI poses')
    poses = load_poses(path)
    if start + num > len(poses):
        raise ValueError(f'sequence {seq}: frames {start}..{start + num - 1}'
                         f' of {source} requested, {path} has {len(poses)}')
    poses = poses[start:start + num]
    return np.linalg.solve(poses[0], poses) + 0.0  # + 0.0: no '-0'


def _render_images(img_dir: str, scene: SyntheticScene, poses: np.ndarray,
                   times: np.ndarray, velo: SensorTrajectory, calib: dict,
                   cfg: dict, stretches: Sequence[dict], seed: int,
                   seq_id: int) -> None:
    cam_c, cam_dirs = _camera_rays(calib['P2'], cfg['image_size'])
    w, h = cfg['image_size']
    velo_to_cam = np.linalg.inv(calib['Tr'])
    for i, T_wc in enumerate(poses):
        failure = camera_failure(stretches, i)
        if failure is not None and failure['kind'] == 'blur':
            e = failure['exposure']
            at = times[i] + np.linspace(-e / 2, e / 2, failure['renders'])
            views = list(zip(velo(at) @ velo_to_cam, at))
        else:
            views = [(T_wc, times[i])]
        rgb = 0.0
        for T, t in views:
            world_dirs = cam_dirs @ T[:3, :3].T
            hit = scene.cast(T[:3, :3] @ cam_c + T[:3, 3], world_dirs,
                             cfg['max_range'], t)
            rgb = rgb + scene.shade(hit, world_dirs)
        rgb = (rgb / len(views)).reshape(h, w, 3) * 255.0
        rng = np.random.default_rng([seed, seq_id, 8, i])
        img = expose(rgb, failure, cfg['image_noise'], rng)
        cv2.imwrite(osp.join(img_dir, f'{i:06d}.png'), img[..., ::-1])


def _write_hard_sequence(root: str, raw_root: str, seq: str, plan: dict,
                         calib: dict, cfg: dict, seed: int,
                         poses_root: Optional[str],
                         imu_root: Optional[str]) -> dict:
    """Write one sequence (and its raw drive); returns its manifest."""
    seq_id = int(seq)
    poses = _trajectory(seq, plan, poses_root)
    num = len(poses)
    seq_dir = osp.join(root, 'sequences', seq)
    img_dir, velo_dir = (osp.join(seq_dir, d) for d in ('image_2', 'velodyne'))
    for d in (img_dir, velo_dir):
        os.makedirs(d, exist_ok=True)
    _remove_stale(img_dir, r'^(\d{6})\.png$', num)
    _remove_stale(velo_dir, r'^(\d{6})\.bin$', num)
    times = _frame_times(num, np.random.default_rng([seed, seq_id, 4]))
    _write_text(osp.join(seq_dir, 'times.txt'), [f'{t:e}' for t in times])
    _write_text(
        osp.join(seq_dir, 'calib.txt'), [
            f'{k}: ' + ' '.join(f'{v:.12e}' for v in calib[k][:3].ravel())
            for k in ('P0', 'P1', 'P2', 'P3', 'Tr')
        ])
    labelled = plan.get('labelled', True)
    pose_path = osp.join(root, 'poses', f'{seq}.txt')
    if labelled:
        _write_text(pose_path,
                    [' '.join(f'{v:e}' for v in T[:3].ravel()) for T in poses])
        poses = load_poses(pose_path)
    elif osp.exists(pose_path):
        os.remove(pose_path)

    arcs = path_arcs(poses)
    headings = np.arctan2(poses[:, 0, 2], poses[:, 2, 2])
    stretches = plan_stretches(
        plan['failures'],
        arcs,
        rng=np.random.default_rng([seed, seq_id, 5]),
        reach=cfg['max_range'],
        headings=headings,
        isolate=plan.get('isolate', False),
        **cfg['stretch'])
    scene = SyntheticScene(
        poses,
        np.random.default_rng([seed, seq_id, 0]),
        margin=cfg['max_range'] + 20,
        parked_lateral=cfg['parked_lateral'],
        **scene_layout(stretches, cfg['max_range']))
    scene.movers = MovingCars(scene, times, arcs,
                              np.random.default_rng([seed, seq_id, 6]),
                              cfg['traffic_spacing'])
    lidar = SweptLidar(max_range=cfg['max_range'], **cfg['lidar'])
    velo = SensorTrajectory(times, poses @ calib['Tr'])
    for i in range(num):
        rng = np.random.default_rng([seed, seq_id, 1, i])
        scan = lidar.scan(scene, velo, times[i], rng)
        scan['points'].tofile(osp.join(velo_dir, f'{i:06d}.bin'))
    _render_images(img_dir, scene, poses, times, velo, calib, cfg, stretches,
                   seed, seq_id)

    rng = np.random.default_rng([seed, seq_id, 7])
    bias = {
        k: (rng.normal(0, cfg['imu_bias_std'][k], 3)).round(6)
        for k in ('acc', 'gyro')
    }
    drive = KITTI_ODOM_DRIVES.get(seq)
    has_oxts = (
        labelled and plan.get('start', 0) == 0 and drive is not None
        and drive[4] and drive[2] == 0)
    if has_oxts:
        _write_raw(raw_root, seq, times, poses, calib, cfg, bias,
                   cfg['imu_noise'], seed, imu_root)
    return dict(
        num_frames=num,
        drive=f'{drive[0]}_drive_{drive[1]}' if has_oxts else None,
        raw_start=0,
        times=times.tolist(),
        has_oxts=bool(has_oxts),
        image_size=list(cfg['image_size']),
        labelled=bool(labelled),
        source=dict(
            sequence=plan.get('source', seq), start=int(plan.get('start', 0))),
        failures=stretches,
        moving_cars=scene.movers.manifest(),
        imu_bias={
            k: v.tolist()
            for k, v in bias.items()
        } if has_oxts else None)


def generate_hard_sample(root: str,
                         raw_root: Optional[str] = None,
                         preset: str = 'hard',
                         seed: int = 0,
                         sequences: Optional[Sequence[str]] = None,
                         poses_root: Optional[str] = None,
                         num_frames: Optional[int] = None,
                         imu_root: Optional[str] = None,
                         image_size: Optional[Sequence[int]] = None,
                         nproc: int = 1) -> Dict:
    """Generate a sample of a :data:`HARD_PRESETS` preset.

    Args:
        root (str): Odometry root (``sequences/`` and ``poses/`` go here).
        raw_root (str, optional): Root of the raw drives. Defaults to
            ``root/raw``.
        preset (str): ``'hard'`` or ``'hard-tiny'``. Defaults to 'hard'.
        seed (int): Seed of everything random. Defaults to 0.
        sequences (Sequence[str], optional): A subset of the preset's
            sequences. Defaults to all of them.
        poses_root (str, optional): Folder of KITTI ground-truth poses
            (``XX.txt``) to take the trajectories from. Defaults to the
            stretches shipped in ``trajectories/``.
        num_frames (int, optional): Frames of every sequence instead of the
            preset's (the failure stretches must still fit).
        imu_root (str, optional): Folder of the real KITTI IMU files
            (``XX.mat``): the OXTS accelerations and angular rates are the
            recorded ones of the same drive. Defaults to None (simulated
            with the error model above).
        image_size (Sequence[int], optional): Image width and height
            instead of the preset's, e.g. KITTI's ``(1241, 376)``; the
            cameras are scaled to it, and the scans do not change.
        nproc (int): Sequences written at once, each in its own process
            (the sample is the same for any value). Defaults to 1.

    Returns:
        dict: The manifest: ``sequences`` (per sequence ``num_frames``,
        ``drive``, ``raw_start``, ``times``, ``has_oxts``, ``image_size``,
        ``labelled``, ``source``, ``failures``, ``moving_cars``,
        ``imu_bias``), ``calib``, ``lidar``, ``imu_frame``, ``gravity``,
        ``imu_noise``, ``imu_source``, ``imu_root``, ``seed`` and ``preset``;
        also saved in the stamp.
    """
    if preset not in HARD_PRESETS:
        raise ValueError(f'unknown preset {preset!r}, expected one of '
                         f'{sorted(HARD_PRESETS)}')
    cfg = dict(HARD_PRESETS[preset])
    if image_size is not None:
        image_size = cfg['image_size'] = image_size_setting(image_size)
    cfg['max_range'] = cfg['lidar']['max_range']
    cfg['lidar'] = {k: v for k, v in cfg['lidar'].items() if k != 'max_range'}
    plans = cfg['sequences']
    chosen = list(plans) if sequences is None else [
        f'{int(s):02d}' for s in sequences
    ]
    unknown = [s for s in chosen if s not in plans]
    if unknown:
        raise ValueError(f'sequences {unknown} are not in preset {preset!r}, '
                         f'expected some of {sorted(plans)}')
    raw_root = osp.join(root, 'raw') if raw_root is None else raw_root
    calib = kitti_calibration(cfg['image_size'])
    remove_stamp(root)
    os.makedirs(osp.join(root, 'poses'), exist_ok=True)
    manifest = dict(
        sequences={},
        calib={
            k: v.tolist()
            for k, v in calib.items()
        },
        lidar=dict(
            cfg['lidar'], max_range=cfg['max_range'], sweep_time=SWEEP_TIME),
        imu_frame=('IMU x forward, y left, z up; as the tiny and demo '
                   'presets'),
        gravity=GRAVITY,
        imu_noise=cfg['imu_noise'],
        imu_source='synthetic' if imu_root is None else 'real',
        imu_root=None if imu_root is None else osp.abspath(imu_root),
        seed=seed,
        preset=preset)
    jobs = []
    for seq in chosen:
        plan = dict(plans[seq])
        if num_frames is not None:
            plan['frames'] = int(num_frames)
        jobs.append((root, raw_root, seq, plan, calib, cfg, seed, poses_root,
                     imu_root))
    if nproc > 1 and len(jobs) > 1:
        # the longest sequences first: the pool ends soonest
        order = sorted(
            range(len(jobs)), key=lambda j: jobs[j][3]['frames'], reverse=True)
        with multiprocessing.get_context('fork').Pool(min(nproc,
                                                          len(jobs))) as pool:
            done = pool.starmap(
                _write_hard_sequence, [jobs[j] for j in order], chunksize=1)
        written = [done[order.index(j)] for j in range(len(jobs))]
    else:
        written = [_write_hard_sequence(*job) for job in jobs]
    manifest['sequences'] = dict(zip(chosen, written))
    overrides = {
        k: v
        for k, v in (('poses_root', poses_root), ('num_frames', num_frames),
                     ('image_size',
                      None if image_size is None else list(image_size)))
        if v is not None
    }
    write_stamp(root, manifest, raw_root, overrides, chosen, sequences is None)
    return manifest
