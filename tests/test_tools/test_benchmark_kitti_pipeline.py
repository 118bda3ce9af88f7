"""tools/analysis_tools/benchmark_kitti_pipeline.py times the odometry
training pipeline of a config, the registration priors read from the
cache of the data root it is given."""
import importlib.util
import os.path as osp
import re

import pytest

from projects.trimodal_odom.trimodal_odom.converters import (
    build_reg_prior_cache, create_kitti_odom_infos,
    registration_cfg_from_config)
from projects.trimodal_odom.trimodal_odom.testing import generate_kitti_sample
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError

TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'analysis_tools',
    'benchmark_kitti_pipeline.py')
ICP = ('configs/trimodal_odom/'
       'trimodal-odom_light-pointnet-gru-icp_1xb2-3e_kitti-sample.py')


def run_tool(argv):
    spec = importlib.util.spec_from_file_location('benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.fixture
def sample(tmp_path):
    root = str(tmp_path / 'kitti')
    generate_kitti_sample(root, preset='tiny')
    create_kitti_odom_infos(root, progress=False)
    return root


def test_pipeline_benchmark_reads_the_priors_of_the_root(sample, capsys):
    argv = [ICP, '--data-root', sample, '--sequences', '00']
    with pytest.raises(KittiFormatError, match='kitti_reg_prior_cache.py'):
        run_tool(argv)  # no cache yet: refused
    build_reg_prior_cache(sample, **registration_cfg_from_config(ICP))
    capsys.readouterr()
    argv += ['--num-samples', '5', '--warmup', '1']
    assert run_tool(argv) == 0
    out = capsys.readouterr().out
    assert 'dataset: 11 samples, built in' in out
    assert re.search(
        r'5 samples \(after 1 warm-up\), 1 process: wall '
        r'[\d.]+ ms a sample \(p90 [\d.]+\), CPU [\d.]+ ms', out)
    assert 'registration priors: 5 cache' in out
    for step in ('LoadOdomImages', 'OdomScanRegistration', 'PackOdomInputs'):
        assert re.search(rf'{step} [\d.]+', out), step
    assert re.search(r'packed sample: [\d.]+ MiB of tensors; peak RSS', out)
