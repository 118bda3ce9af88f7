import os
import os.path as osp

import numpy as np
import pytest
from kitti_odom_layout import run_tool

from projects.trimodal_odom.trimodal_odom.converters import (
    check_kitti_integrity, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.datasets import (LoadOdomImages,
                                                           LoadOdomPoints)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError

SEQ = osp.join('sequences', '00')
SYNC = osp.join('raw', '2011_10_03', '2011_10_03_drive_0027_sync', 'oxts')
EXTRACT = SYNC.replace('_sync', '_extract')


def _remove(path):
    os.remove(path)


def _truncate_bin(path):
    with open(path, 'r+b') as f:
        f.truncate(osp.getsize(path) - 6)


def _replace_line(path, lineno, text):
    with open(path) as f:
        lines = f.read().splitlines()
    lines[lineno - 1] = text
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def _short_oxts(path):
    with open(path) as f:
        values = f.read().split()
    with open(path, 'w') as f:
        f.write(' '.join(values[:25]) + '\n')


def _nan_oxts(path):
    with open(path) as f:
        values = f.read().split()
    values[11] = 'nan'
    with open(path, 'w') as f:
        f.write(' '.join(values) + '\n')


def _drop_last_pose(path):
    with open(path) as f:
        lines = f.read().splitlines()
    with open(path, 'w') as f:
        f.write('\n'.join(lines[:-1]) + '\n')


def _drop_tr(path):
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith('Tr')]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


# (file to damage, damage, expected text after the file name)
CASES = {
    'missing image': (f'{SEQ}/image_2/000003.png', _remove, 'file missing'),
    'missing cloud': (f'{SEQ}/velodyne/000002.bin', _remove, 'file missing'),
    'bin size':
    (f'{SEQ}/velodyne/000001.bin', _truncate_bin, 'not a multiple of 16'),
    'times not increasing':
    (f'{SEQ}/times.txt', lambda p: _replace_line(p, 4, '0.1'),
     ':4: time 0.1 does not increase'),
    'pose count': ('poses/00.txt', _drop_last_pose, '5 poses but 6 frames'),
    'calib missing': (f'{SEQ}/calib.txt', _remove, 'file not found'),
    'calib Tr missing':
    (f'{SEQ}/calib.txt', _drop_tr, 'calibration Tr missing'),
    'raw calib missing':
    ('raw/2011_10_03/calib_imu_to_velo.txt', _remove, 'file not found'),
    'oxts short line': (f'{SYNC}/data/0000000002.txt', _short_oxts,
                        ':1: expected 30 OXTS values, got 25'),
    'oxts NaN': (f'{EXTRACT}/data/0000000007.txt', _nan_oxts,
                 ":1: NaN or inf in 'ax'"),
}


@pytest.mark.parametrize('case', list(CASES))
def test_problem_names_file_and_line(real_kitti, case):
    rel, damage, message = CASES[case]
    path = osp.join(real_kitti, rel)
    damage(path)
    report, infos = check_kitti_integrity(real_kitti, sequences='00')
    assert not report.ok
    assert any(
        str(e).startswith(path) and message in str(e)
        for e in report.errors), report.errors
    assert infos == []
    # The converter refuses to write anything, listing the same problem.
    with pytest.raises(KittiFormatError, match='ERROR ' + path):
        create_kitti_odom_infos(real_kitti, sequences='00')
    assert not osp.exists(osp.join(real_kitti, 'infos'))


def test_unknown_sequence_names_path(real_kitti):
    report, _ = check_kitti_integrity(real_kitti, sequences='00,07')
    searched = osp.join(real_kitti, 'sequences', '07')
    assert [str(e) for e in report.errors] == [
        f'{searched}: sequence 07 not found (searched {searched}) '
        '[missing_sequence]'
    ]


def test_nan_cloud_deep_check_and_loader(real_kitti):
    path = osp.join(real_kitti, SEQ, 'velodyne', '000004.bin')
    points = np.fromfile(path, dtype=np.float32).reshape(-1, 4)
    points[10, 2] = np.nan
    points.tofile(path)
    report, _ = check_kitti_integrity(real_kitti, sequences='00')
    assert report.ok  # the cheap check reads sizes only
    report, _ = check_kitti_integrity(real_kitti, sequences='00', deep=True)
    assert [str(e) for e in report.errors
            ] == [f'{path}: 1 points with NaN or inf [non_finite]']
    with pytest.raises(KittiFormatError, match=f'{path}: 1 points with NaN'):
        LoadOdomPoints()(dict(lidar_paths=[path, path]))


def test_corrupt_image_names_file(real_kitti):
    path = osp.join(real_kitti, SEQ, 'image_2', '000001.png')
    with open(path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(KittiFormatError, match=f'{path}: cannot decode'):
        LoadOdomImages()(dict(img_paths=[path, path]))


def test_extract_time_glitch_is_counted(real_kitti):
    path = osp.join(real_kitti, EXTRACT, 'timestamps.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    lines[20] = lines[18]  # goes back in time
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    report, infos = check_kitti_integrity(real_kitti, sequences='00')
    assert report.ok
    assert report.counts[
        'extract OXTS packets dropped (time not increasing)'] == 1
    assert any(str(w).startswith(f'{path}:21:') for w in report.warnings)


def test_integrity_tool_exit_status(real_kitti, monkeypatch, capsys):
    tool = 'tools/misc/check_kitti_integrity.py'
    assert run_tool(tool, [real_kitti, '--sequences', '0'], monkeypatch) == 0
    os.remove(osp.join(real_kitti, SEQ, 'velodyne', '000005.bin'))
    assert run_tool(tool, [real_kitti], monkeypatch) == 1
    out = capsys.readouterr().out
    assert f'{osp.join(real_kitti, SEQ, "velodyne", "000005.bin")}: file ' \
        'missing' in out
