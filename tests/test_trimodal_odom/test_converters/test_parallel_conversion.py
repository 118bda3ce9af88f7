"""Sequences checked and converted in parallel: a progress bar a sequence,
and the same problems (of every sequence) and files for 1 and 2
processes."""
import filecmp
import os
import os.path as osp
import shutil

import pytest
from kitti_odom_layout import run_tool

from projects.trimodal_odom.trimodal_odom.converters import (
    check_kitti_integrity, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample

SEQS = ('00', '03', '09')  # 03: no raw data (warnings, no IMU)


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('three') / 'kitti')
    generate_kitti_sample(root, preset='tiny', sequences=SEQS)
    return root


@pytest.fixture
def layout(generated, tmp_path):
    root = str(tmp_path / 'kitti')
    shutil.copytree(generated, root)
    return root


def summary(report):
    return ([str(p) for p in report.errors], [str(p) for p in report.warnings],
            dict(report.counts))


def test_every_problem_of_every_sequence_for_1_and_2_processes(
        layout, monkeypatch, capsys):
    bad_image = osp.join(layout, 'sequences', '00', 'image_2', '000003.png')
    bad_cloud = osp.join(layout, 'sequences', '09', 'velodyne', '000005.bin')
    os.remove(bad_image)
    with open(bad_cloud, 'r+b') as f:
        f.truncate(100)
    serial, serial_infos = check_kitti_integrity(layout, nproc=1)
    out = capsys.readouterr().out
    assert f'checking 3 sequences of {layout}' in out
    assert '3/3' in out and 'ETA' in out
    parallel, parallel_infos = check_kitti_integrity(layout, nproc=2)
    assert '3/3' in capsys.readouterr().out
    assert summary(serial) == summary(parallel)
    errors = summary(serial)[0]
    assert len(errors) == 2
    assert errors[0].startswith(f'{bad_image}: file missing')
    assert errors[1].startswith(f'{bad_cloud}: 100 bytes is not a multiple')
    assert any('03' in w for w in summary(serial)[1])  # no raw drive
    # only 03 is without errors
    assert [i['metainfo']['seq'] for i in serial_infos] == ['03']
    assert serial_infos == parallel_infos
    quiet, _ = check_kitti_integrity(layout, nproc=2, progress=False)
    assert capsys.readouterr().out == ''
    assert summary(quiet) == summary(serial)
    # the tool: both problems, exit status 1
    tool = 'tools/misc/check_kitti_integrity.py'
    assert run_tool(tool, [layout, '--nproc', '2'], monkeypatch) == 1
    out = capsys.readouterr().out
    assert errors[0] in out and errors[1] in out


def test_converter_writes_the_same_files_for_1_and_2_processes(
        generated, tmp_path, monkeypatch, capsys):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    _, written = create_kitti_odom_infos(generated, out_dir=one, nproc=1)
    tool = 'tools/dataset_converters/kitti_odom_converter.py'
    assert run_tool(tool, [generated, '--out-dir', two, '--nproc', '2'],
                    monkeypatch) == 0
    assert '3/3' in capsys.readouterr().out
    names = sorted(osp.basename(p) for p in written)
    assert names == sorted(os.listdir(two)) == [
        'imu_stats.json', 'kitti_odom_infos_00.pkl', 'kitti_odom_infos_03.pkl',
        'kitti_odom_infos_09.pkl'
    ]
    _, mismatch, errors = filecmp.cmpfiles(one, two, names, shallow=False)
    assert mismatch == errors == []
