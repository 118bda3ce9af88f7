"""tools/analysis_tools/benchmark_train.py runs configs side by side."""
import json
import math
import os.path as osp
import subprocess
import sys

from tests.test_mmfusion.toy_modules import cpu_only_env, free_port

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py'
# shrink yolox_tiny so that a training step is fast on a CPU
TINY_OPTIONS = [
    '--cfg-options', 'model.bbox_head.num_classes=5',
    'model.backbone.widen_factor=0.125', 'model.neck.in_channels=[32,64,128]',
    'model.neck.out_channels=32', 'model.bbox_head.in_channels=32',
    'model.bbox_head.feat_channels=32'
]


def test_benchmark_two_configs_on_cpu(tmp_path):
    out = tmp_path / 'bench.json'
    cmd = [
        sys.executable, 'tools/analysis_tools/benchmark_train.py', CONFIG,
        CONFIG, '--device', 'cpu', '--batch-size', '2', '--img-size', '96',
        '128', '--warmup', '1', '--iters', '1', '--out',
        str(out)
    ] + TINY_OPTIONS
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report['device'] == 'cpu'
    assert len(report['results']) == 2
    for r in report['results']:
        assert r['img_size'] == [96, 128]
        assert r['step_s'] > 0
        assert abs(r['images_per_s'] * r['step_s'] - 2) < 1e-6
    assert report['results'][0]['ratio_to_first'] == 1.0
    assert 'img/s' in proc.stdout


def test_benchmark_data_parallel_on_cpu(tmp_path):
    """Two gloo ranks under torch.distributed.run, batch 2 per rank."""
    out = tmp_path / 'bench_ddp.json'
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}',
        'tools/analysis_tools/benchmark_train.py', CONFIG, '--launcher',
        'pytorch', '--device', 'cpu', '--batch-size', '2', '--img-size', '96',
        '128', '--warmup', '1', '--iters', '2', '--out',
        str(out)
    ] + TINY_OPTIONS
    # no GPU visible: the gloo path also on a machine with GPUs
    env = cpu_only_env(OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report['world_size'] == 2
    assert report['settings']['launcher'] == 'pytorch'
    (r, ) = report['results']
    assert r['world_size'] == 2
    assert r['img_size'] == [96, 128]
    assert r['batch_size'] == 2
    assert math.isfinite(r['images_per_s']) and r['images_per_s'] > 0
    assert math.isclose(r['images_per_s'], 2 * 2 / r['step_s'])
    # only rank 0 prints the table
    assert proc.stdout.count('img/s') == 1
