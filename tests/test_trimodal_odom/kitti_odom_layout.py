"""A one-sequence KITTI odometry + raw layout around the real frames."""
import datetime
import importlib.util
import os
import os.path as osp
import shutil
import sys

import numpy as np

from projects.trimodal_odom.trimodal_odom.converters.oxts_io import (
    save_oxts, save_raw_calib)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import save_poses

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DATA = osp.join(osp.dirname(__file__), '..', 'data', 'kitti')
ORIGIN = datetime.datetime(2011, 10, 3, 12, 55, 34, 500000)
# Calibration values of KITTI odometry sequence 00 / raw 2011_10_03.
TR = [
    4.276802385584e-04, -9.999672484946e-01, -8.084491683471e-03,
    -1.198459927713e-02, -7.210626507497e-03, 8.081198471645e-03,
    -9.999413164504e-01, -5.403984729748e-02, 9.999738645903e-01,
    4.859485810390e-04, -7.206933692422e-03, -2.921968648686e-01
]
P = [
    7.188560e+02, 0, 6.071928e+02, 4.538225e+01, 0, 7.188560e+02, 1.852157e+02,
    -1.130887e-01, 0, 0, 1, 3.779761e-03
]
R_IMU_VELO = [
    9.999976e-01, 7.553071e-04, -2.035826e-03, -7.854027e-04, 9.998898e-01,
    -1.482298e-02, 2.024406e-03, 1.482454e-02, 9.998881e-01
]
# Frame intervals differ (as real ones jitter), so IMU windows differ.
FRAME_DT = [0.1036, 0.0936, 0.1136, 0.1036, 0.0736]
N_FRAMES = 6


def oxts_packets(t: np.ndarray) -> np.ndarray:
    """Packets whose IMU channels are linear in time: ax = 0.5 t,
    ay = -0.2 t, az = 9.81, wx = 0, wy = 0.01, wz = 0.3 t."""
    p = np.zeros((len(t), 30))
    p[:, 0], p[:, 1], p[:, 2] = 49.01, 8.43, 116.0
    p[:, 11], p[:, 12], p[:, 13] = 0.5 * t, -0.2 * t, 9.81
    p[:, 18], p[:, 19] = 0.01, 0.3 * t
    p[:, 25:] = [4, 9, 4, 4, 6]
    return p


def build_real_kitti(root: str, n: int = N_FRAMES) -> str:
    """Write sequence 00 (real images / scan, real poses) and its raw OXTS
    drive under ``root``; return ``root``."""
    seq = osp.join(root, 'sequences', '00')
    for sub in ('image_2', 'velodyne'):
        os.makedirs(osp.join(seq, sub))
    for i in range(n):
        src = '000000.png' if i % 2 == 0 else '000007.png'
        shutil.copy(
            osp.join(DATA, 'real_frames', src),
            osp.join(seq, 'image_2', f'{i:06d}.png'))
        shutil.copy(
            osp.join(DATA, 'real_frames', '000000.bin'),
            osp.join(seq, 'velodyne', f'{i:06d}.bin'))
    with open(osp.join(seq, 'calib.txt'), 'w') as f:
        for k in range(4):
            f.write(f'P{k}: ' + ' '.join(map(str, P)) + '\n')
        f.write('Tr: ' + ' '.join(map(str, TR)) + '\n')
    times = np.concatenate([[0.0], np.cumsum(FRAME_DT)])[:n]
    np.savetxt(osp.join(seq, 'times.txt'), times, fmt='%.6e')
    os.makedirs(osp.join(root, 'poses'))
    poses = np.loadtxt(osp.join(DATA, '00.txt'), max_rows=n)
    save_poses(osp.join(root, 'poses', '00.txt'), poses.reshape(n, 3, 4))

    date = osp.join(root, 'raw', '2011_10_03')
    os.makedirs(date)
    save_raw_calib(
        osp.join(date, 'calib_imu_to_velo.txt'),
        dict(R=R_IMU_VELO, T=[-0.8086759, 0.3195559, -0.7997231]),
        '25-May-2012 16:47:16')
    save_raw_calib(
        osp.join(date, 'calib_velo_to_cam.txt'),
        dict(R=np.array(TR).reshape(3, 4)[:, :3], T=np.array(TR)[3::4]),
        '15-Mar-2012 11:37:16')
    drive = osp.join(date, '2011_10_03_drive_0027')
    # OXTS wall clock = times.txt + 0.5 s (+ 1 ms jitter on sync packets).
    sync_t = times + 0.001 * (np.arange(n) % 2)
    save_oxts(drive + '_sync/oxts', oxts_packets(sync_t), sync_t, ORIGIN)
    ext_t = np.arange(-0.05, times[-1] + 0.05, 0.0101)
    save_oxts(drive + '_extract/oxts', oxts_packets(ext_t), ext_t, ORIGIN)
    return root


def add_sequence_without_raw(root: str) -> None:
    """Copy sequence 00 as 03, which has no KITTI raw drive (no IMU)."""
    shutil.copytree(
        osp.join(root, 'sequences', '00'), osp.join(root, 'sequences', '03'))
    shutil.copy(
        osp.join(root, 'poses', '00.txt'), osp.join(root, 'poses', '03.txt'))


def run_tool(relpath, argv, monkeypatch):
    """Run a tool's ``main()`` in this process with ``argv``."""
    path = osp.join(REPO, relpath)
    spec = importlib.util.spec_from_file_location('tool_under_test', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', [path] + argv)
    return module.main()
