"""``benchmark_train_e2e.py`` keeps the results of a run whose process
does not exit in time after writing them (e.g. slow dataloader worker
shutdown), and reports a run that wrote none as failed."""
import argparse
import importlib.util
import os.path as osp
import sys

import pytest

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_train_e2e.py')


@pytest.fixture
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_train_e2e', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child(write: bool, linger_s: float):
    """A stand-in for the run's process: writes a record (or not), then
    lingers as a process whose shutdown hangs would."""

    def argv(args, run, work_dir, out):
        code = ('import json, sys, time\n'
                f'if {write}:\n'
                f'    json.dump(dict(name={run[0]!r}, process_s=0.1, '
                "results=dict(complete=True)), open(sys.argv[1], 'w'))\n"
                f'time.sleep({linger_s})\n')
        return [sys.executable, '-c', code, out]

    return argv


def run_args(tmp_path, timeout):
    return argparse.Namespace(
        work_dir=str(tmp_path),
        run_timeout=timeout,
        shared_compile_cache=False)


def test_results_written_before_a_hung_exit_are_kept(tool, tmp_path,
                                                     monkeypatch):
    monkeypatch.setattr(tool, 'child_argv', child(True, 60))
    record = tool.run_child(run_args(tmp_path, 3), ['dual', 'cfg.py'])
    assert 'error' not in record
    assert record['results'] == dict(complete=True)
    assert record['exit_problem'].startswith('stopped after 3 s, ')
    assert record['exit_problem'].endswith('after its results were written')
    # written right after the start, stopped at the 3 s limit
    lag = float(record['exit_problem'].split(', ')[1].split(' s ')[0])
    assert 1 <= lag <= 4, record['exit_problem']


def test_a_run_without_results_fails(tool, tmp_path, monkeypatch):
    monkeypatch.setattr(tool, 'child_argv', child(False, 60))
    record = tool.run_child(run_args(tmp_path, 3), ['dual', 'cfg.py'])
    assert record['error'] == 'stopped after 3 s'
    monkeypatch.setattr(tool, 'child_argv', child(False, 0))
    record = tool.run_child(run_args(tmp_path, 30), ['dual', 'cfg.py'])
    assert record['error'] == 'no results written'


def test_window_limit_leaves_the_margin_before_the_run_is_stopped(tool):
    """The start-up before training counts: a run launched at t=1000 with
    a 300 s timeout and a 45 s margin that starts training at t=1030 may
    train 225 s, not 255 s (which would end at the timeout, with no
    results)."""
    args = argparse.Namespace(
        deadline=1000.0 + 300, run_timeout=300, stop_margin=45)
    assert tool.window_time_limit(args, now=1030.0) == 225
    # past the point where it should have ended: end at once
    assert tool.window_time_limit(args, now=1290.0) == 0
    # without the parent's deadline: from this process's start
    args.deadline = None
    assert tool.window_time_limit(
        args, now=tool.STARTED + 30) == pytest.approx(225)
