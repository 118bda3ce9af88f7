"""tools/analysis_tools/benchmark_fred_pipeline.py measures the FRED training
pipeline in this process and through DataLoader workers."""
import math
import os.path as osp
import re
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/fred_fusion/_base_/datasets/fred_sample.py'


@pytest.mark.parametrize('workers', [0, 2])
def test_pipeline_benchmark_reports_every_variant(workers):
    cmd = [
        sys.executable, 'tools/analysis_tools/benchmark_fred_pipeline.py',
        CONFIG, '--img-size', '320', '192', '--num-samples', '6',
        '--batch-size', '3', '--warmup', '1', '--repeats', '1',
        '--num-workers',
        str(workers), '--event-cache'
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    mode = ('DataLoader with 2 workers, batch 3' if workers else '1 process')
    assert f'frames 320x192, 6 samples x 1 rounds, {mode}' in out
    rates = dict(re.findall(r'wall +([\w-]+): ([\d.]+) samples/s', out))
    assert set(rates) == {'rgb', 'dual', 'dual-cache'}
    for rate in rates.values():
        assert math.isfinite(float(rate)) and float(rate) > 0
    assert 'event cache: ' in out and ' 0 failed' in out
    # CPU time of one process is only reported without workers
    assert ('cpu        rgb' in out) == (workers == 0)


def test_pipeline_benchmark_measures_the_device_path():
    cmd = [
        sys.executable, 'tools/analysis_tools/benchmark_fred_pipeline.py',
        CONFIG, '--img-size', '320', '192', '--num-samples', '4',
        '--batch-size', '2', '--warmup', '1', '--repeats', '1',
        '--num-workers', '1', '--event-cache', '--device-config',
        'configs/fred_fusion/_base_/datasets/fred_sample_device-aug.py',
        '--augment-device', 'cpu', '--augment-repeats', '1'
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    rates = dict(re.findall(r'wall +([\w-]+): ([\d.]+) samples/s', out))
    assert set(rates) == {'rgb', 'dual', 'dual-cache', 'dual-device'}
    stages = re.search(
        r'device path loading, CPU ms per sample \(median\): '
        r'(.*); total ([\d.]+)', out)
    assert stages, out
    for step in ('LoadAnnotations', 'LoadFREDImages', 'RGB decode',
                 'event load', 'event resize', 'PackDualModalInputs',
                 'collate'):
        assert step in stages.group(1), step
    assert float(stages.group(2)) > 0
    assert re.search(
        r'device path batch augmentation on cpu, batch 2: [\d.]+ ms per '
        r'batch', out), out
