"""Tasks behind a progress bar: in order, the same for any number of
processes, the bar on the stdout of the call."""
import os

import pytest

from mmfusion.utils.progress import track_tasks


def square_with_pid(x):
    return x * x, os.getpid()


def test_results_in_order_for_any_nproc(capsys):
    tasks = list(range(7))
    serial = list(track_tasks(square_with_pid, tasks, desc='squaring'))
    out = capsys.readouterr().out
    assert out.startswith('squaring\n')
    assert '7/7' in out and 'ETA' in out
    parallel = list(track_tasks(square_with_pid, tasks, nproc=2))
    squares = [x * x for x in tasks]
    assert [r for r, _ in serial] == [r for r, _ in parallel] == squares
    assert {pid for _, pid in serial} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in parallel}
    assert '7/7' in capsys.readouterr().out


def test_quiet_and_empty(capsys):
    assert list(track_tasks(square_with_pid, [], nproc=2, desc='x')) == []
    quiet = track_tasks(square_with_pid, [3], progress=False)
    assert [r for r, _ in quiet] == [9]
    assert capsys.readouterr().out == ''
    with pytest.raises(ValueError, match='nproc must be >= 1, got 0'):
        list(track_tasks(square_with_pid, [1], nproc=0))


def test_stopping_early_ends_the_workers():
    results = track_tasks(square_with_pid, list(range(20)), nproc=2)
    _, pid = next(results)
    results.close()  # terminates and joins the pool it made
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
