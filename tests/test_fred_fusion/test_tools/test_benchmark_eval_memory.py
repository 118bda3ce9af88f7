"""benchmark_eval_memory runs tools/test.py per test-set size and prints
the peak memory and mAP of each run (a smoke test, nothing is timed)."""
import importlib.util
import os.path as osp

from tests.test_fred_fusion.checkpoints import init_checkpoint

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_eval_memory.py')
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')


def test_benchmark_prints_peak_rss_and_map(fred_tiny_root, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('bench', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    ckpt = init_checkpoint(CONFIG, str(tmp_path / 'model.pth'))
    assert tool.main([
        CONFIG, ckpt, '--data-root', fred_tiny_root, '--sizes', '3', '6',
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.test_cfg.score_thr=0.0'
    ]) == 0
    out = capsys.readouterr().out
    for size in (3, 6):
        assert f'| FREDCocoMetric | {size} | ' in out
    assert 'FREDCocoMetric: peak at 6 images = ' in out
