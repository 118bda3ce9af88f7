"""tools/analysis_tools/benchmark_compile.py runs each compile mode in its
own process on the dual demo model and reports its compilations."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join('tools', 'analysis_tools', 'benchmark_compile.py')
CONFIG = osp.join('configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
COMPILED = {'backbones.rgb', 'fusion_neck', 'neck', 'bbox_head'}


def run_tool(tmp_path, *args, timeout=300):
    out = tmp_path / 'compile.json'
    cmd = [
        sys.executable, TOOL, CONFIG, '--device', 'cpu', '--batch-size', '2',
        '--sizes', '64', '96', '--iters', '1', '--out',
        str(out), *args
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())['results'], proc.stdout


def test_eager_and_dynamic_modes_on_cpu(tmp_path):
    results, stdout = run_tool(tmp_path, '--modes', 'eager',
                               'dynamic,backend=aot_eager')
    eager, dynamic = results
    assert [r['status'] for r in results] == ['ok', 'ok']
    assert eager['compile_network'] is None
    assert eager['compilations'] == []
    assert dynamic['compile_network'] == dict(
        shapes='dynamic', backend='aot_eager')
    # one compilation per module at the first size, none at the second
    assert [s['compilations'] for s in dynamic['sizes']] == [4, 0]
    assert {c['module'] for c in dynamic['compilations']} == COMPILED
    first = next(c for c in dynamic['compilations']
                 if c['module'] == 'backbones.rgb')
    assert first['size'] == 64 and first['input_shapes'] == [[2, 3, 64, 64]]
    assert first['seconds'] > 0
    for r in results:
        assert [s['size'] for s in r['sizes']] == [64, 96]
        assert all(s['step_s'] > 0 for s in r['sizes'])
        assert r['channels_last'] is True
    assert '== dynamic,backend=aot_eager: ok' in stdout


def test_a_mode_past_its_timeout_is_reported_not_waited_for(tmp_path):
    results, _ = run_tool(tmp_path, '--modes', 'static,backend=aot_eager',
                          '--timeout', '2')
    (result, ) = results
    assert result['status'] == 'timeout'
    assert result['wall_s'] < 30
    assert result['compile_network'] == dict(
        shapes='static', backend='aot_eager')


def test_malformed_modes_are_refused(tmp_path):
    proc = subprocess.run(
        [sys.executable, TOOL, CONFIG, '--modes', 'dynamic,backend'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120)
    assert proc.returncode != 0
    assert "'backend' is not KEY=VALUE" in proc.stderr


@pytest.mark.parametrize('mode, settings', [
    ('eager', None),
    ("dynamic,options={'a': 1, 'b': 2},recompile_limit=3",
     dict(shapes='dynamic', options={
         'a': 1,
         'b': 2
     }, recompile_limit=3)),
])
def test_mode_settings(mode, settings):
    spec = importlib.util.spec_from_file_location('benchmark_compile',
                                                  osp.join(ROOT, TOOL))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compile_settings(mode) == settings
