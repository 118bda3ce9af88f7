"""Generator of a small KITTI odometry sample with raw OXTS data.

The sample follows real KITTI trajectories (the first frames of the
ground-truth poses of sequences 00, 09 and 10, shipped in
``trajectories/``) through a static synthetic scene, and writes exactly the
files of the KITTI odometry release and of the KITTI raw drives::

    ROOT/sequences/XX/{image_2/NNNNNN.png, velodyne/NNNNNN.bin,
                       calib.txt, times.txt}
    ROOT/poses/XX.txt
    RAW/<date>/<date>_drive_<NNNN>_{sync,extract}/oxts/
        {data/NNNNNNNNNN.txt, timestamps.txt, dataformat.txt}
    RAW/<date>/calib_{imu_to_velo,velo_to_cam,cam_to_cam}.txt

Conventions are KITTI's: camera x right, y down, z forward; Velodyne x
forward, y left, z up; IMU x forward, y left, z up.  The camera-0 world of
the poses is taken as gravity aligned (gravity along +y).  OXTS fields
follow the KITTI devkit (see :mod:`..converters.oxts_io`): ``ax, ay, az`` and
``wx, wy, wz`` in the IMU body frame, ``af, al, au``, ``vf, vl, vu`` and
``wf, wl, wu`` in the body frame rotated to level by yaw only;
accelerations are specific forces ``R_wb^T (a_w - g_w)``, with a constant
bias and white noise (or, with ``imu_root``, the recorded accelerations and
angular rates of the real KITTI IMU of the same drive,
:mod:`..converters.kitti_imu_io`).  ``lat, lon, alt`` invert the devkit's
Mercator projection, so ``oxts_to_poses`` gives back the IMU trajectory.
The 10 Hz sync packets are sampled at the odometry frame times, the ~100 Hz
extract packets between the first and the last frame time.
"""
import datetime
import os
import os.path as osp
import re
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..converters.kitti_drives import KITTI_ODOM_DRIVES
from ..converters.kitti_imu_io import (expected_imu_rows, load_kitti_imu,
                                       resample_kitti_imu)
from ..converters.oxts_io import save_oxts, save_raw_calib
from ..utils.kitti_io import load_poses, save_poses
from ..utils.se3 import make_pose, so3_exp
from .stamps import remove_stamp, write_stamp
from .synthetic_imu import GRAVITY, simulate_oxts
from .synthetic_scene import SyntheticScene

TRAJECTORY_DIR = osp.join(osp.dirname(__file__), 'trajectories')

# Sequences whose real trajectory ships in ``trajectories/``:
# sequence -> (date, drive, first raw frame, last raw frame)
RAW_DRIVES = {seq: KITTI_ODOM_DRIVES[seq][:4] for seq in ('00', '09', '10')}
# sequences without raw data: (source trajectory, first frame used)
_NO_RAW = {'03': ('09', 300)}
_SITES = {  # latitude, longitude, altitude of the first packet
    '2011_10_03': (49.011212, 8.422885, 112.8),
    '2011_09_30': (48.985589, 8.393861, 116.4),
}

# Settings of every preset.
_COMMON = dict(
    max_range=80.0,
    lidar_noise=0.01,
    image_noise=2.0,
    extract_rate=100.0,
    imu_bias=None,
    imu_noise=dict(acc=0.02, gyro=0.001))
PRESETS = {
    'tiny':
    dict(
        _COMMON,
        sequences=('00', ),
        num_frames=12,
        image_size=(160, 48),
        lidar_beams=16,
        lidar_azimuths=256),
    'demo':
    dict(
        _COMMON,
        sequences=('00', '09'),
        num_frames={
            '00': 300,
            '09': 200,
            '10': 200,
            '03': 100
        },
        image_size=(320, 96),
        lidar_beams=32,
        lidar_azimuths=512),
    # Real size: KITTI's 1241 x 376 images and HDL-64E scans (64 beams over
    # its +2.0 .. -24.8 deg field of view, ~0.18 deg apart in azimuth at
    # 10 Hz: ~125k points a scan), 1000 frames of sequence 00.
    'full':
    dict(
        _COMMON,
        sequences=('00', ),
        num_frames=1000,
        image_size=(1241, 376),
        lidar_beams=64,
        lidar_azimuths=2000),
}

# KITTI sequence 00 camera (1241 x 376) and calibration, rounded
_FULL_SIZE = (1241.0, 376.0)
_K = np.array([[718.856, 0.0, 607.1928], [0.0, 718.856, 185.2157],
               [0.0, 0.0, 1.0]])
_P_OFFSET = {  # last column of P0..P3
    'P0': (0.0, 0.0, 0.0),
    'P1': (-386.1448, 0.0, 0.0),
    'P2': (45.38225, -0.1130887, 3.779761e-03),
    'P3': (-337.2877, 2.369057, 4.915215e-03),
}
_VELO_TO_CAM_R = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0,
                                                                0.0]])
_TR_SMALL = (0.00721, 0.00046, -0.00808)
_TR_T = (-0.00407, -0.07632, -0.27178)
_RECT_SMALL = (0.00441, -0.00750, -0.00728)
_IMU_SMALL = (0.01482, -0.00203, -0.00077)
_IMU_T = (-0.80868, 0.31956, -0.79972)


def kitti_calibration(image_size: Sequence[int]) -> Dict[str, np.ndarray]:
    """Calibration close to KITTI's, with cameras scaled to ``image_size``.

    Args:
        image_size (Sequence[int]): Image width and height.

    Returns:
        dict: ``P0``..``P3`` (3, 4) rectified projections, ``Tr`` (4, 4)
        Velodyne -> rectified camera 0, ``R_rect_00`` (3, 3),
        ``T_cam0_velo`` (4, 4) Velodyne -> unrectified camera 0 and
        ``T_velo_imu`` (4, 4) IMU -> Velodyne.
    """
    scale = np.diag(
        [image_size[0] / _FULL_SIZE[0], image_size[1] / _FULL_SIZE[1], 1.0])
    calib = {}
    for key, offset in _P_OFFSET.items():
        P = np.concatenate([_K, np.array(offset)[:, None]], 1)
        calib[key] = scale @ P
    calib['Tr'] = make_pose(
        so3_exp(np.array(_TR_SMALL)) @ _VELO_TO_CAM_R, np.array(_TR_T))
    calib['R_rect_00'] = so3_exp(np.array(_RECT_SMALL))
    calib['T_cam0_velo'] = make_pose(calib['R_rect_00'].T,
                                     np.zeros(3)) @ calib['Tr']
    calib['T_velo_imu'] = make_pose(
        so3_exp(np.array(_IMU_SMALL)), np.array(_IMU_T))
    return calib


def image_size_setting(size: Sequence[int]) -> Tuple[int, int]:
    """``size`` as an image width and height (a tuple of two ints), or a
    ValueError naming the setting."""
    size = tuple(int(v) for v in size)
    if len(size) != 2 or min(size) < 8:
        raise ValueError(f'image_size: expected a width and a height of 8 '
                         f'pixels or more, got {size}')
    return size


def _settings(preset: str, sequences: Optional[Sequence[str]],
              overrides: dict) -> dict:
    if preset not in PRESETS:
        raise ValueError(f'unknown preset {preset!r}, expected one of '
                         f'{sorted(PRESETS)}')
    cfg = dict(PRESETS[preset])
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f'unknown settings {sorted(unknown)}, expected '
                         f'some of {sorted(cfg)}')
    cfg.update(overrides)
    cfg['image_size'] = image_size_setting(cfg['image_size'])
    if sequences is not None:
        cfg['sequences'] = sequences
    if isinstance(cfg['sequences'], str):
        cfg['sequences'] = cfg['sequences'].split(',')
    cfg['sequences'] = tuple(f'{int(s):02d}' for s in cfg['sequences'])
    for seq in cfg['sequences']:
        if seq not in RAW_DRIVES and seq not in _NO_RAW:
            raise ValueError(
                f'sequence {seq} is not available for the sample, expected '
                f'one of {sorted(set(RAW_DRIVES) | set(_NO_RAW))}')
    return cfg


def _frames(cfg: dict, seq: str) -> int:
    n = cfg['num_frames']
    n = n.get(seq, 100) if isinstance(n, dict) else n
    if int(n) < 2:
        raise ValueError(f'sequence {seq}: need at least 2 frames, got {n}')
    return int(n)


def _trajectory(seq: str, num: int):
    """The first ``num`` real poses of ``seq`` (pose file lines, (N, 4, 4))
    or, for sequences without raw data, a re-based segment of another."""
    source, start = _NO_RAW.get(seq, (seq, 0))
    path = osp.join(TRAJECTORY_DIR, f'{source}.txt')
    with open(path) as f:
        lines = [s for s in f.read().splitlines() if s.strip()]
    if start + num > len(lines):
        raise ValueError(f'sequence {seq}: {num} frames requested, the '
                         f'stored trajectory {path} has '
                         f'{len(lines) - start}')
    poses = load_poses(path)[start:start + num]
    if start:
        poses = np.linalg.solve(poses[0], poses)
        lines = None
    else:
        lines = lines[:num]
    return poses, lines


def _remove_stale(folder: str, pattern: str, count: int) -> None:
    """Delete frame files numbered ``count`` or higher left by an earlier,
    longer run, so that the folder holds exactly ``count`` frames."""
    regex = re.compile(pattern)
    for name in os.listdir(folder):
        m = regex.match(name)
        if m and int(m.group(1)) >= count:
            os.remove(osp.join(folder, name))


def _write_text(path: str, lines: Sequence[str]) -> None:
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def _lidar_dirs(beams: int, azimuths: int, offset: float) -> np.ndarray:
    elev = np.deg2rad(np.linspace(2.0, -24.8, beams))[:, None]
    azim = offset + 2 * np.pi * np.arange(azimuths)[None] / azimuths
    return np.stack([
        np.cos(elev) * np.cos(azim),
        np.cos(elev) * np.sin(azim),
        np.broadcast_to(np.sin(elev), (beams, azimuths))
    ], -1).reshape(-1, 3)


def _camera_rays(P: np.ndarray, size: Sequence[int]):
    """Centre (3,) and unit pixel rays (H * W, 3) of a rectified camera
    ``P = K [I | t]`` in camera-0 coordinates."""
    K_inv = np.linalg.inv(P[:, :3])
    u, v = np.meshgrid(np.arange(size[0]), np.arange(size[1]))
    pix = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], -1)
    dirs = pix @ K_inv.T
    return -K_inv @ P[:, 3], dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def _render_sequence(seq_dir: str, poses: np.ndarray, calib: dict, cfg: dict,
                     seed: int, seq_id: int) -> None:
    scene = SyntheticScene(
        poses,
        np.random.default_rng([seed, seq_id, 0]),
        margin=cfg['max_range'] + 20)
    img_dir = osp.join(seq_dir, 'image_2')
    velo_dir = osp.join(seq_dir, 'velodyne')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(velo_dir, exist_ok=True)
    _remove_stale(img_dir, r'^(\d{6})\.png$', len(poses))
    _remove_stale(velo_dir, r'^(\d{6})\.bin$', len(poses))
    cam_c, cam_dirs = _camera_rays(calib['P2'], cfg['image_size'])
    w, h = cfg['image_size']
    beams, azimuths = cfg['lidar_beams'], cfg['lidar_azimuths']
    for i, T_wc in enumerate(poses):
        rng = np.random.default_rng([seed, seq_id, 1, i])
        T_wv = T_wc @ calib['Tr']
        dirs = _lidar_dirs(beams, azimuths,
                           rng.uniform(0, 2 * np.pi / azimuths))
        hit = scene.cast(T_wv[:3, 3], dirs @ T_wv[:3, :3].T, cfg['max_range'])
        keep = hit['hit']
        rng_noise = cfg['lidar_noise'] * rng.standard_normal(keep.sum())
        xyz = (hit['t'][keep] + rng_noise)[:, None] * dirs[keep]
        cloud = np.concatenate(
            [xyz, np.clip(hit['reflect'][keep], 0, 1)[:, None]], 1)
        cloud.astype(np.float32).tofile(osp.join(velo_dir, f'{i:06d}.bin'))

        world_dirs = cam_dirs @ T_wc[:3, :3].T
        hit = scene.cast(T_wc[:3, :3] @ cam_c + T_wc[:3, 3], world_dirs,
                         cfg['max_range'])
        rgb = scene.shade(hit, world_dirs).reshape(h, w, 3) * 255.0
        rgb += cfg['image_noise'] * rng.standard_normal(rgb.shape)
        img = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(img_dir, f'{i:06d}.png'), img[..., ::-1])


def _frame_times(num: int, rng: np.random.Generator) -> np.ndarray:
    """KITTI-like frame times (~10.4 Hz, jittered, from 0), exactly as
    written to ``times.txt``."""
    dt = 0.10364 + rng.uniform(-3e-4, 3e-4, num - 1)
    times = np.concatenate([[0.0], np.cumsum(dt)])
    return np.array([float(f'{t:e}') for t in times])


def _imu_settings(cfg: dict, rng: np.random.Generator) -> tuple:
    bias = cfg['imu_bias']
    if bias is None:
        bias = dict(
            acc=rng.normal(0, 0.03, 3).round(4),
            gyro=rng.normal(0, 5e-4, 3).round(6))
    noise = cfg['imu_noise']
    for name, value in (('imu_bias', bias), ('imu_noise', noise)):
        if not isinstance(value, dict) or set(value) != {'acc', 'gyro'}:
            raise ValueError(f'{name} must be a dict with keys acc and gyro, '
                             f'got {value!r}')
    bias = {k: np.asarray(bias[k], dtype=np.float64) for k in bias}
    if any(v.shape != (3, ) for v in bias.values()):
        raise ValueError(f'imu_bias values must hold 3 numbers, got {bias}')
    return bias, {k: float(v) for k, v in noise.items()}


def _recorded_imu(imu_root: str, seq: str, times: np.ndarray) -> np.ndarray:
    """The first rows of the real IMU file of ``seq`` that span the
    sample's frames (10 (N - 1) + 1 rows: real frame ``k`` at the sample's
    frame ``k``)."""
    path = osp.join(imu_root, f'{seq}.mat')
    recorded = load_kitti_imu(path)
    rows = expected_imu_rows(len(times))
    if len(recorded) < rows:
        raise ValueError(f'{path}: {len(recorded)} IMU rows, the sample '
                         f'needs {rows} for its {len(times)} frames')
    return recorded[:rows]


def _write_raw(raw_root: str,
               seq: str,
               times: np.ndarray,
               poses: np.ndarray,
               calib: dict,
               cfg: dict,
               bias: dict,
               noise: dict,
               seed: int,
               imu_root: Optional[str] = None) -> int:
    """Write the sync and extract OXTS of ``seq``'s drive and the date's
    raw calibration; returns the first raw frame.  With ``imu_root`` the
    accelerations and angular rates are the recorded ones of
    ``imu_root/XX.mat`` (:func:`_recorded_imu`)."""
    date, drive, start, _ = KITTI_ODOM_DRIVES[seq][:4]
    if start:
        raise ValueError(f'sequence {seq}: raw frames before {start} '
                         f'cannot be generated')
    rng = np.random.default_rng([seed, int(seq), 2])
    heading = rng.uniform(-np.pi, np.pi)
    lat, lon, alt = _SITES[date]
    lla0 = (lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01),
            alt)
    origin = datetime.datetime.strptime(date, '%Y_%m_%d')
    origin += datetime.timedelta(
        hours=12, seconds=round(rng.uniform(0, 3600), 6))
    T_world_imu = poses @ calib['Tr'] @ calib['T_velo_imu']

    step = 1.0 / cfg['extract_rate']
    ext_times = np.arange(0.0, times[-1], step)
    ext_times[1:] += rng.uniform(-0.05, 0.05, len(ext_times) - 1) * step
    date_dir = osp.join(raw_root, date)
    recorded = None if imu_root is None else _recorded_imu(
        imu_root, seq, times)
    for kind, query in (('sync', times), ('extract', ext_times)):
        packets = simulate_oxts(
            times,
            T_world_imu,
            query,
            heading,
            lla0,
            bias,
            noise,
            np.random.default_rng([seed, int(seq), 3,
                                   len(kind)]),
            # the jittered last extract packet may pass the last frame
            None if recorded is None else resample_kitti_imu(
                recorded, times, np.minimum(query, times[-1])))
        oxts_dir = osp.join(date_dir, f'{date}_drive_{drive}_{kind}', 'oxts')
        os.makedirs(osp.join(oxts_dir, 'data'), exist_ok=True)
        _remove_stale(
            osp.join(oxts_dir, 'data'), r'^(\d{10})\.txt$', len(query))
        save_oxts(oxts_dir, packets, query, origin)

    save_raw_calib(
        osp.join(date_dir, 'calib_imu_to_velo.txt'),
        dict(R=calib['T_velo_imu'][:3, :3], T=calib['T_velo_imu'][:3, 3]),
        '25-May-2012 16:47:16')
    save_raw_calib(
        osp.join(date_dir, 'calib_velo_to_cam.txt'),
        dict(
            R=calib['T_cam0_velo'][:3, :3],
            T=calib['T_cam0_velo'][:3, 3],
            delta_f=np.zeros(2),
            delta_c=np.zeros(2)), '15-Mar-2012 11:37:16')
    size = np.array(cfg['image_size'], dtype=np.float64)
    entries = dict(corner_dist=[9.95e-02])
    for cam in range(4):
        entries[f'S_rect_{cam:02d}'] = size
        entries[f'R_rect_{cam:02d}'] = calib['R_rect_00']
        entries[f'P_rect_{cam:02d}'] = calib[f'P{cam}']
    save_raw_calib(
        osp.join(date_dir, 'calib_cam_to_cam.txt'), entries,
        '09-Jan-2012 13:57:47')
    return start


def generate_kitti_sample(root: str,
                          raw_root: Optional[str] = None,
                          preset: str = 'tiny',
                          seed: int = 0,
                          sequences: Optional[Sequence[str]] = None,
                          imu_root: Optional[str] = None,
                          **overrides) -> dict:
    """Generate a KITTI odometry sample with matching raw OXTS data.

    Args:
        root (str): Odometry root (``sequences/`` and ``poses/`` go here).
        raw_root (str, optional): Root of the raw drives. Defaults to
            ``root/raw``.
        preset (str): ``'tiny'`` (sequence 00, 12 frames, 160x48 images,
            16x256 LiDAR rays; for tests), ``'demo'`` (00 frames 0-299 and
            09 frames 0-199, 320x96 images, 32x512 rays) or ``'full'``
            (real size: 00 frames 0-999, 1241x376 images, 64x2000 rays).
            Defaults to ``'tiny'``.
        seed (int): Seed of everything random. Defaults to 0.
        sequences (Sequence[str], optional): Sequences to write among
            ``'00'``, ``'09'``, ``'10'`` and ``'03'`` (no raw data; a
            re-based segment of 09). Defaults to the preset's.
        imu_root (str, optional): Folder of the real KITTI IMU files
            ``XX.mat`` (:mod:`..converters.kitti_imu_io`): the OXTS
            accelerations and angular rates of each sequence are then its
            recorded ones (real noise and bias, the IMU of the trajectory's
            own drive) instead of simulated ones. Defaults to None.
        **overrides: Preset settings to change: ``num_frames`` (int, or
            dict sequence -> int), ``image_size`` ((W, H)),
            ``lidar_beams``, ``lidar_azimuths``, ``max_range`` (m),
            ``lidar_noise`` (m), ``image_noise`` (grey levels),
            ``extract_rate`` (Hz), ``imu_bias`` (dict ``acc``, ``gyro``
            of 3 values, or None to draw one from ``seed``) and
            ``imu_noise`` (dict ``acc``, ``gyro`` standard deviations).

    Returns:
        dict: The manifest: ``sequences`` (per sequence ``num_frames``,
        ``drive``, ``raw_start``, ``times``, ``has_oxts``, ``image_size``),
        ``calib``, ``imu_frame``, ``gravity``, ``imu_bias``,
        ``imu_noise``, ``imu_source`` (``'synthetic'`` or ``'real'``),
        ``imu_root``, ``seed`` and ``preset``.  It is also saved in the
        sample's stamp (:mod:`.stamps`) once everything is written.
    """
    cfg = _settings(preset, sequences, overrides)
    raw_root = osp.join(root, 'raw') if raw_root is None else raw_root
    calib = kitti_calibration(cfg['image_size'])
    bias, noise = _imu_settings(cfg, np.random.default_rng([seed, 99]))
    remove_stamp(root)
    os.makedirs(osp.join(root, 'poses'), exist_ok=True)
    manifest = dict(
        sequences={},
        calib={
            k: v.tolist()
            for k, v in calib.items()
        },
        imu_frame=('IMU x forward, y left, z up; ax/ay/az and wx/wy/wz in '
                   'the IMU body frame, vf/vl/vu, af/al/au and wf/wl/wu in '
                   'the body frame rotated to level by yaw; accelerations '
                   'are specific forces; T_velo_imu maps IMU to Velodyne'),
        gravity=GRAVITY,
        imu_bias={
            k: v.tolist()
            for k, v in bias.items()
        },
        imu_noise=noise,
        imu_source='synthetic' if imu_root is None else 'real',
        imu_root=None if imu_root is None else osp.abspath(imu_root),
        seed=seed,
        preset=preset)
    for seq in cfg['sequences']:
        times, poses = _write_sequence(root, seq, calib, cfg, seed)
        has_oxts = seq in RAW_DRIVES
        start = 0
        if has_oxts:
            start = _write_raw(raw_root, seq, times, poses, calib, cfg, bias,
                               noise, seed, imu_root)
        manifest['sequences'][seq] = dict(
            num_frames=len(times),
            drive=(f'{RAW_DRIVES[seq][0]}_drive_{RAW_DRIVES[seq][1]}'
                   if has_oxts else None),
            raw_start=start,
            times=times.tolist(),
            has_oxts=has_oxts,
            image_size=list(cfg['image_size']))
    write_stamp(root, manifest, raw_root, overrides, cfg['sequences'],
                sequences is None)
    return manifest


def _write_sequence(root: str, seq: str, calib: dict, cfg: dict,
                    seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Write ``times.txt``, ``calib.txt``, the poses, images and scans of
    one sequence; returns its times (N, ) and poses (N, 4, 4)."""
    num = _frames(cfg, seq)
    poses, lines = _trajectory(seq, num)
    seq_dir = osp.join(root, 'sequences', seq)
    os.makedirs(seq_dir, exist_ok=True)
    times = _frame_times(num, np.random.default_rng([seed, int(seq), 4]))
    _write_text(osp.join(seq_dir, 'times.txt'), [f'{t:e}' for t in times])
    _write_text(
        osp.join(seq_dir, 'calib.txt'), [
            f'{k}: ' + ' '.join(f'{v:.12e}' for v in calib[k][:3].ravel())
            for k in ('P0', 'P1', 'P2', 'P3', 'Tr')
        ])
    pose_path = osp.join(root, 'poses', f'{seq}.txt')
    if lines is None:
        save_poses(pose_path, poses + 0.0)  # + 0.0: no '-0' zeros
        poses = load_poses(pose_path)
    else:
        _write_text(pose_path, lines)
    _render_sequence(seq_dir, poses, calib, cfg, seed, int(seq))
    return times, poses
