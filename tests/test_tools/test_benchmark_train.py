"""tools/analysis_tools/benchmark_train.py runs configs side by side."""
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_benchmark_two_configs_on_cpu(tmp_path):
    out = tmp_path / 'bench.json'
    cmd = [
        sys.executable, 'tools/analysis_tools/benchmark_train.py',
        'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
        'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', '--device', 'cpu',
        '--batch-size', '2', '--img-size', '96', '128', '--warmup', '1',
        '--iters', '1', '--out',
        str(out), '--cfg-options', 'model.bbox_head.num_classes=5',
        'model.backbone.widen_factor=0.125',
        'model.neck.in_channels=[32,64,128]', 'model.neck.out_channels=32',
        'model.bbox_head.in_channels=32', 'model.bbox_head.feat_channels=32'
    ]
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
