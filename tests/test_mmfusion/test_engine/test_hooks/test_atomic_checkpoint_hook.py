import json
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmfusion.engine import AtomicCheckpointHook, find_resumable_checkpoint
from mmfusion.utils import is_complete_checkpoint
from tests.test_mmfusion.toy_modules import ToyRecordingBackend, toy_config


def _write_checkpoints(ckpt_dir):
    """epoch_1 and epoch_2 complete, epoch_3 truncated."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for step in (1, 2, 3):
        paths[step] = ckpt_dir / f'epoch_{step}.pth'
        torch.save(
            dict(state_dict=dict(w=torch.ones(100) * step)), paths[step])
    data = paths[3].read_bytes()
    paths[3].write_bytes(data[:len(data) // 2])
    return paths


def test_find_resumable_checkpoint_falls_back_to_newest_complete(tmp_path):
    paths = _write_checkpoints(tmp_path)
    assert is_complete_checkpoint(str(paths[2]))
    assert not is_complete_checkpoint(str(paths[3]))
    last = tmp_path / 'last_checkpoint'

    # No last_checkpoint: newest complete one, truncated epoch_3 skipped.
    assert find_resumable_checkpoint(str(tmp_path)) == str(paths[2])
    for recorded in ('', str(tmp_path / 'epoch_9.pth'), str(paths[3])):
        last.write_text(recorded)
        assert find_resumable_checkpoint(str(tmp_path)) == str(paths[2])
    last.write_text(str(paths[1]) + '\n')
    assert find_resumable_checkpoint(str(tmp_path)) == str(paths[1])
    # Steps compare as numbers: epoch_10 is newer than epoch_2.
    torch.save({}, tmp_path / 'epoch_10.pth')
    last.write_text('')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path /
                                                           'epoch_10.pth')
    assert find_resumable_checkpoint(str(tmp_path / 'empty')) is None


def _train_steps(work_dir):
    """Training steps logged by all runs in ``work_dir``, in order."""
    return [
        json.loads(line)['step']
        for scalars in sorted(work_dir.glob('*/vis_data/scalars.json'))
        for line in open(scalars) if '"loss"' in line
    ]


def test_resume_repairs_empty_last_checkpoint(tmp_path):
    work_dir = tmp_path / 'run'
    cfg = toy_config(work_dir, max_epochs=2)
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1
    runner = Runner.from_cfg(cfg)
    assert any(isinstance(h, AtomicCheckpointHook) for h in runner.hooks)
    runner.train()
    # max_keep_ckpts=1: the old checkpoint goes once the new one exists.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_2.pth']
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir /
                                                             'epoch_2.pth')

    # A crash left an empty last_checkpoint, a partial write and a
    # truncated checkpoint under a final name (as mmengine's hook can).
    (work_dir / 'last_checkpoint').write_text('')
    (work_dir / '.epoch_3.pth.partial').write_bytes(b'PK\x03\x04')
    (work_dir / 'epoch_3.pth').write_bytes(b'PK\x03\x04')
    cfg = toy_config(tmp_path / 'run', max_epochs=3)
    cfg.experiment_name = 'resumed'
    cfg.resume = True
    Runner.from_cfg(cfg).train()
    # Epoch 3 followed epoch 2: the run resumed instead of restarting.
    assert _train_steps(work_dir) == list(range(1, 13))
    assert not (work_dir / '.epoch_3.pth.partial').exists()
    assert is_complete_checkpoint(str(work_dir / 'epoch_3.pth'))
    ckpt = torch.load(work_dir / 'epoch_3.pth', weights_only=False)
    assert ckpt['meta']['epoch'] == 3
    assert set(ckpt['rng_state']) >= {'python', 'numpy', 'torch'}


def test_best_and_mid_epoch_checkpoints_are_atomic(tmp_path):
    """Every write goes to a partial file first; the previous best
    checkpoint is removed only after the new one is complete; a mid-epoch
    checkpoint goes once a newer checkpoint is complete."""
    work_dir = tmp_path / 'run'
    cfg = toy_config(work_dir, max_epochs=5)
    cfg.default_hooks.checkpoint.update(
        save_best='accuracy',
        rule='greater',
        interval_iters=3,
        backend_args=dict(backend='toy_recording'))
    ToyRecordingBackend.calls.clear()
    Runner.from_cfg(cfg).train()
    calls = ToyRecordingBackend.calls
    puts = [osp.basename(path) for kind, path in calls if kind == 'put']
    assert puts and all(
        name.startswith('.') and name.endswith('.partial') for name in puts)
    # iterations 3, 6, 9, ...: not 12 and 20 (the epoch's own checkpoint)
    assert [n for n in puts if n.startswith('.iter_')
            ] == [f'.iter_{i}.pth.partial' for i in (3, 6, 9, 15, 18)]
    best = [n[1:-len('.partial')] for n in puts if n.startswith('.best_')]
    assert len(best) >= 2, best  # the best checkpoint was replaced
    events = [(kind, osp.basename(path)) for kind, path in calls]
    for old, new in zip(best, best[1:]):
        assert events.index(('put', f'.{new}.partial')) < events.index(
            ('remove', old))
    names = sorted(p.name for p in work_dir.iterdir() if p.suffix == '.pth')
    assert names == sorted([best[-1], 'epoch_4.pth', 'epoch_5.pth'])
    assert all(is_complete_checkpoint(str(work_dir / n)) for n in names)
    assert not list(work_dir.glob('.*.partial'))
    with pytest.raises(ValueError, match='interval_iters needs by_epoch'):
        AtomicCheckpointHook(by_epoch=False, interval=10, interval_iters=3)
