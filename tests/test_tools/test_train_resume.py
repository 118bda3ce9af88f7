"""Crash safety of ``tools/train.py``: runs killed with SIGKILL at several
points, at epoch boundaries and inside epochs, and restarted with
``--resume`` end exactly as an uninterrupted run.

The toy config (``tests/test_mmfusion/toy_classifier_config.py``) inherits
the shared runtime, so the hooks under test are the ones every project
uses.  Kills are injected by ``tests.test_mmfusion.toy_modules`` through the
``TOY_KILL`` environment variable.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'tests' / 'test_mmfusion' / 'toy_classifier_config.py'
MAX_EPOCHS = 5
ITERS_PER_EPOCH = 4
LOGGED_KEYS = ('loss', 'loss_cls', 'loss_l2', 'lr')
FREEZE_CONFIG = CONFIG.with_name('toy_classifier_freeze_config.py')
# Mid-epoch checkpoints after every iteration, with or without workers.
MID_EPOCH = [
    'default_hooks.checkpoint.interval_iters=1',
    'train_dataloader.num_workers=2',
    'train_dataloader.persistent_workers=True'
]
NO_WORKERS = [
    'default_hooks.checkpoint.interval_iters=1',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False'
]


def _launch(tool: str,
            args: List[str],
            kill: Optional[str] = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop('TOY_KILL', None)
    if kill is not None:
        env['TOY_KILL'] = kill
    return subprocess.Popen(
        [sys.executable, f'tools/{tool}.py'] + args,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def _train(work_dir: Path,
           *extra: str,
           kill: Optional[str] = None) -> subprocess.Popen:
    return _launch('train', [str(CONFIG), '--work-dir',
                             str(work_dir), *extra], kill)


def _finish(procs: Dict[str, subprocess.Popen]) -> Dict[str, tuple]:
    return {
        name: (p.wait(timeout=120), p.stdout.read())
        for name, p in procs.items()
    }


def _runs_scalars(work_dir: Path) -> List[List[dict]]:
    """Training scalars of each run (one per timestamped log dir)."""
    runs = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        runs.append([row for row in rows if 'loss' in row])
    return runs


def _logged_losses(work_dir: Path) -> Dict[int, tuple]:
    """Loss terms and lr per iteration; a later run overrides the
    iterations that an earlier, killed run had logged."""
    losses = {}
    for run in _runs_scalars(work_dir):
        for row in run:
            losses[row['step']] = tuple(row[k] for k in LOGGED_KEYS)
    return losses


def _final_weights(work_dir: Path) -> dict:
    ckpt = torch.load(
        work_dir / f'epoch_{MAX_EPOCHS}.pth',
        map_location='cpu',
        weights_only=False)
    return ckpt['state_dict']


def test_killed_training_resumes_to_identical_weights_and_losses(tmp_path):
    # Kill points, counted from 1 in the killed process: the 7th training
    # forward is epoch 2, iteration 3; the 5th validation forward is the
    # 2nd batch of epoch 2's validation; the 3rd checkpoint write is
    # epoch_3.pth, killed with half of its bytes on disk.
    kills = {'mid_iter': 'train:7', 'mid_val': 'val:5', 'mid_save': 'save:3'}
    first = {'uninterrupted': _train(tmp_path / 'uninterrupted')}
    first.update({
        name: _train(tmp_path / name, kill=kill)
        for name, kill in kills.items()
    })
    results = _finish(first)
    assert results['uninterrupted'][0] == 0, results['uninterrupted'][1]
    for name in kills:
        assert results[name][0] == -signal.SIGKILL, results[name][1]

    # What the kills left behind.
    save_dir = tmp_path / 'mid_save'
    assert (save_dir / '.epoch_3.pth.partial').is_file()
    assert not (save_dir / 'epoch_3.pth').exists()
    assert (save_dir / 'last_checkpoint').read_text() == str(save_dir /
                                                             'epoch_2.pth')
    assert (tmp_path / 'mid_iter' /
            'last_checkpoint').read_text() == str(tmp_path / 'mid_iter' /
                                                  'epoch_1.pth')

    # Restart: without a path (latest checkpoint) and with an explicit one;
    # meanwhile tools/test.py evaluates the uninterrupted run's checkpoint.
    final_ckpt = tmp_path / 'uninterrupted' / f'epoch_{MAX_EPOCHS}.pth'
    second = {
        'mid_iter':
        _train(tmp_path / 'mid_iter', '--resume'),
        'mid_val':
        _train(tmp_path / 'mid_val', '--resume',
               str(tmp_path / 'mid_val' / 'epoch_2.pth')),
        'mid_save':
        _train(tmp_path / 'mid_save', '--resume'),
        'test':
        _launch('test', [
            str(CONFIG),
            str(final_ckpt), '--work-dir',
            str(tmp_path / 'test')
        ]),
    }
    results = _finish(second)
    for name, (returncode, output) in results.items():
        assert returncode == 0, output

    assert 'Removing' in results['mid_save'][1]
    assert not list(save_dir.glob('.*.partial'))

    expected_losses = _logged_losses(tmp_path / 'uninterrupted')
    assert sorted(expected_losses) == list(
        range(1, MAX_EPOCHS * ITERS_PER_EPOCH + 1))
    expected_weights = _final_weights(tmp_path / 'uninterrupted')
    resumed_from = {'mid_iter': 1, 'mid_val': 2, 'mid_save': 2}
    for name, epoch in resumed_from.items():
        work_dir = tmp_path / name
        killed_run, resumed_run = _runs_scalars(work_dir)
        # The restart continued after the checkpoint, not from scratch.
        assert resumed_run[0]['step'] == epoch * ITERS_PER_EPOCH + 1, name
        assert _logged_losses(work_dir) == expected_losses, name
        weights = _final_weights(work_dir)
        assert weights.keys() == expected_weights.keys()
        for key, value in expected_weights.items():
            assert torch.equal(weights[key], value), (name, key)

    # tools/test.py loaded the trained weights: same accuracy as the last
    # validation of training (the test set is the validation set).
    val_rows = [
        json.loads(line) for line in open(
            next((tmp_path / 'uninterrupted').glob('*/vis_data/scalars.json')))
        if 'accuracy' in line
    ]
    test_output = results['test'][1]
    assert f'Load checkpoint from {final_ckpt}' in test_output
    assert f"accuracy: {val_rows[-1]['accuracy']:.4f}" in test_output
    assert val_rows[-1]['accuracy'] > val_rows[0]['accuracy']


def _train_cfg(config: Path,
               work_dir: Path,
               options: List[str],
               *extra: str,
               kill: Optional[str] = None) -> subprocess.Popen:
    return _launch('train', [
        str(config), '--work-dir',
        str(work_dir), *extra, '--cfg-options', *options
    ], kill)


def _assert_same_run(work_dir: Path, expected_dir: Path,
                     resumed_at: int) -> None:
    """``work_dir`` (killed, then resumed after iteration ``resumed_at``)
    logged the losses and ended with the weights of ``expected_dir``."""
    killed_run, resumed_run = _runs_scalars(work_dir)
    assert resumed_run[0]['step'] == resumed_at + 1, work_dir.name
    assert _logged_losses(work_dir) == _logged_losses(expected_dir)
    weights, expected = _final_weights(work_dir), _final_weights(expected_dir)
    assert weights.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(weights[key], value), (work_dir.name, key)
    # Mid-epoch checkpoints go once a newer checkpoint is complete.
    assert not list(work_dir.glob('iter_*.pth'))


def test_killed_inside_an_epoch_resumes_to_the_uninterrupted_run(tmp_path):
    """Checkpoints after every iteration; SIGKILL inside an epoch: the
    resumed run trains on the rest of that epoch and ends bit for bit as
    the uninterrupted one, with persistent workers (and resumed without
    workers), after a kill during a checkpoint write, and in the second
    stage of a schedule that switches the batch size (6 then 4 iterations
    an epoch) under an iteration-based warm-up."""
    first = {
        'uninterrupted':
        _train_cfg(CONFIG, tmp_path / 'uninterrupted', MID_EPOCH),
        # the 7th forward: epoch 2, its 3rd batch; iter_6.pth is complete
        'mid_iter':
        _train_cfg(CONFIG, tmp_path / 'mid_iter', MID_EPOCH, kill='train:7'),
        # writes: iter_1-3, epoch_1, iter_5, iter_6 (killed half-way)
        'mid_save':
        _train_cfg(CONFIG, tmp_path / 'mid_save', MID_EPOCH, kill='save:6'),
        'freeze':
        _train_cfg(FREEZE_CONFIG, tmp_path / 'freeze', MID_EPOCH),
        # iterations 1-12 in two epochs of 6; the 15th forward is the 3rd
        # batch of epoch 3, the first epoch of stage 2
        'freeze_stage2':
        _train_cfg(
            FREEZE_CONFIG,
            tmp_path / 'freeze_stage2',
            MID_EPOCH,
            kill='train:15'),
    }
    results = _finish(first)
    for name in ('uninterrupted', 'freeze'):
        assert results[name][0] == 0, results[name][1]
    for name in ('mid_iter', 'mid_save', 'freeze_stage2'):
        assert results[name][0] == -signal.SIGKILL, results[name][1]
    assert (tmp_path / 'mid_save' / '.iter_6.pth.partial').is_file()

    second = {
        'mid_iter':
        _train_cfg(CONFIG, tmp_path / 'mid_iter', NO_WORKERS, '--resume'),
        'mid_save':
        _train_cfg(CONFIG, tmp_path / 'mid_save', MID_EPOCH, '--resume'),
        'freeze_stage2':
        _train_cfg(FREEZE_CONFIG, tmp_path / 'freeze_stage2',
                   MID_EPOCH, '--resume',
                   str(tmp_path / 'freeze_stage2' / 'iter_14.pth')),
    }
    results = _finish(second)
    for name, (returncode, output) in results.items():
        assert returncode == 0, output
    assert 'Resuming inside epoch 2: its first 2 of 4 batches' in results[
        'mid_iter'][1]
    assert 'Resuming inside epoch 2: its first 1 of 4 batches' in results[
        'mid_save'][1]
    assert 'Resuming inside epoch 3: its first 2 of 4 batches' in results[
        'freeze_stage2'][1]

    uninterrupted = tmp_path / 'uninterrupted'
    assert sorted(_logged_losses(uninterrupted)) == list(
        range(1, MAX_EPOCHS * ITERS_PER_EPOCH + 1))
    _assert_same_run(tmp_path / 'mid_iter', uninterrupted, resumed_at=6)
    _assert_same_run(tmp_path / 'mid_save', uninterrupted, resumed_at=5)
    assert sorted(_logged_losses(tmp_path / 'freeze')) == list(range(1, 25))
    _assert_same_run(
        tmp_path / 'freeze_stage2', tmp_path / 'freeze', resumed_at=14)
