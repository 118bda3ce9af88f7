"""The full-size preset: KITTI's image size and HDL-64E-like scans (64
beams over the real vertical field of view, ~125k points), on two frames;
``--num-frames`` of the generator."""
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np

from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import (load_calib,
                                                                 load_velodyne)

CLI = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'tools', 'misc',
    'generate_kitti_sample.py')


def test_full_preset_geometry(tmp_path):
    root = str(tmp_path / 'full')
    manifest = generate_kitti_sample(root, preset='full', num_frames=2)
    assert manifest['sequences']['00']['image_size'] == [1241, 376]
    seq = osp.join(root, 'sequences', '00')
    assert len(open(osp.join(root, 'poses', '00.txt')).readlines()) == 2
    for i in range(2):
        img = cv2.imread(osp.join(seq, 'image_2', f'{i:06d}.png'))
        assert img.shape == (376, 1241, 3)
        assert img.std() > 10  # a scene, not a blank frame
        points = load_velodyne(osp.join(seq, 'velodyne', f'{i:06d}.bin'))
        # real HDL-64E scans of KITTI hold 110k-130k points
        assert 110_000 <= len(points) <= 130_000, len(points)
        xyz = points[:, :3].astype(np.float64)
        dist = np.linalg.norm(xyz, axis=1)
        assert dist.max() <= 80.0 + 0.1
        elev = np.rad2deg(np.arcsin(xyz[:, 2] / dist))
        # 64 rings, +2.0 .. -24.8 deg (the noise is along the ray)
        rings = np.unique(np.round(elev, 2))
        assert len(rings) == 64
        assert abs(rings.max() - 2.0) < 0.01
        assert abs(rings.min() + 24.8) < 0.01
    # the calibration of the real camera, unscaled
    P2 = load_calib(osp.join(seq, 'calib.txt'))['P2']
    np.testing.assert_allclose(P2[:2, :3], [[718.856, 0, 607.1928],
                                            [0, 718.856, 185.2157]])


def test_cli_num_frames_is_part_of_the_stamp(tmp_path, monkeypatch, capsys):
    root = str(tmp_path / 'cli')
    velo = osp.join(root, 'sequences', '00', 'velodyne')
    for num in ('3', '3', '4'):
        monkeypatch.setattr(sys, 'argv', [CLI, root, '--num-frames', num])
        runpy.run_path(CLI, run_name='__main__')
        assert len(os.listdir(velo)) == int(num)
    out = capsys.readouterr().out
    assert out.count('wrote sequences') == 2
    assert out.count('already complete') == 1
    assert 's a frame' in out
