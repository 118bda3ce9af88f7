"""``tools/analysis_tools/benchmark_train_e2e.py`` runs the stock mmdet
YOLOX-s config and this project's dual config on the tiny FRED sample, one
process each, through ``tools/train.py``'s Runner, and reports both."""
import gzip
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_train_e2e.py')
CONFIGS = osp.join(REPO, 'configs', 'fred_fusion')
# tiny widths; multi-scale sizes 320, 352 and 384 (the configs: 480-800)
SHRINK = [
    'model.backbone.widen_factor=0.125', 'model.neck.out_channels=16',
    'model.bbox_head.in_channels=16', 'model.bbox_head.feat_channels=16',
    'model.data_preprocessor.batch_augments.0.random_size_range=(320,384)',
    'train_dataloader.num_batch_per_epoch=8'
]
SIZES = [[320, 320], [352, 352], [384, 384]]
BATCH = 2
WINDOW = 3


def test_stock_and_dual_runs_measured_in_one_job(fred_tiny_root, tmp_path):
    out = tmp_path / 'e2e.json'
    cmd = [
        sys.executable, TOOL, '--run', 'stock',
        osp.join(CONFIGS, 'yolox_s_stock-rgb_1xb8-300e_fred.py'),
        'model.neck.in_channels=[32,64,128]', '--run', 'dual',
        osp.join(CONFIGS, 'yolox_s_dual-concat_1xb8-300e_fred.py'),
        'model.fusion_neck.in_channels=[32,64,128]', '--run', 'dual-device',
        osp.join(CONFIGS, 'yolox_s_dual-concat_1xb8-300e_device-aug_fred.py'),
        'model.fusion_neck.in_channels=[32,64,128]',
        'train_dataloader.dataset.pipeline.1.event_cache=False', '--data-root',
        fred_tiny_root, '--batch-size',
        str(BATCH), '--num-workers', '1', '--warmup-iters', '2',
        '--window-iters',
        str(WINDOW), '--repeat-dataset', '2', '--profile-iters', '2',
        '--size-passes', '2', '--work-dir',
        str(tmp_path / 'runs'), '--out',
        str(out), '--cfg-options', *SHRINK
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report['settings']['window_iters'] == WINDOW
    assert [r['name']
            for r in report['runs']] == ['stock', 'dual', 'dual-device']
    for run in report['runs']:
        assert 'error' not in run, run
        assert run['batch_size'] == BATCH and run['num_workers'] == 1
        res = run['results']
        assert res['complete']
        window = res['window']
        assert window['iters'] == WINDOW
        assert window['images'] == WINDOW * BATCH
        assert window['images_per_s'] > 0
        assert 0 <= window['data_wait_fraction'] < 1
        assert sum(window['sizes'].values()) == WINDOW
        assert sorted(window['gc']) == ['gen0', 'gen1', 'gen2']
        assert len(window['gc_times']) == WINDOW
        # the warm-up trained at the batches' own size (the pipeline's
        # 640 x 640, or the device augmentation's output from 160 x 96
        # frames), then twice at every multi-scale size of that aspect
        # ratio (--size-passes 2; the first pass counts as stalls), then
        # drained the worker's prefetch queue (1 worker x 2 batches)
        warmup = res['warmup']
        assert warmup['sizes'] == [[640, 640]] + SIZES
        assert sorted(res['one_time']['first_step_at_size_s']) == [
            '320x320', '352x352', '384x384', '640x640'
        ]
        assert warmup['last_stall_iter'] >= len(SIZES)
        assert warmup['iters'] >= 2 * len(SIZES) + 1
        assert warmup['iters'] - warmup['last_stall_iter'] - 1 >= 2
        assert res['workers']['num_workers'] == 1
        assert res['workers']['cpu_ms_per_sample'] > 0
        assert res['gpu'] is None and res['memory'] is None
        assert run['train_dataset']['type'] == 'RepeatDataset'
        run_dir = tmp_path / 'runs' / run['name']
        # no validation and no checkpoints in the benchmark
        assert not [f for f in os.listdir(run_dir) if f.endswith('.pth')]
        # two iterations traced after the window
        with gzip.open(run_dir / 'profile_trace.json.gz', 'rt') as f:
            trace = json.load(f)
        assert any(
            e.get('name', '').startswith('aten::conv')
            for e in trace['traceEvents'])
        assert (run_dir /
                'profile_ops.txt').read_text().startswith('2 iterations')
    # the table names both runs; the first is the reference
    table = proc.stdout[proc.stdout.index('img/s'):]
    assert 'stock' in table and 'dual' in table and '1.00' in table
    assert f'{WINDOW}/{WINDOW}' in table and 'full GC s' in table
