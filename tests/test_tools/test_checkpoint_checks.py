"""``tools/test.py CKPT``, ``tools/train.py --resume PATH`` and
``load_from`` check the named checkpoint before anything is built: a bad
file ends the tool with one line naming it, before torch, the config's
modules, the dataset or the runner are even imported."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'tests' / 'test_mmfusion' / 'toy_classifier_config.py'


def _commands(tmp_path: Path) -> dict:
    (tmp_path / 'garbage.pth').write_bytes(b'\x00\x17not a checkpoint' * 50)
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'cut.pth').write_bytes(b'PK\x03\x04' + bytes(100))
    work = ['--work-dir', str(tmp_path / 'work')]
    return {
        # expected message after "error: TMP/": tool and arguments
        'garbage.pth: not a checkpoint (neither a torch zip archive nor a '
        'pickle)': ['test.py', CONFIG, tmp_path / 'garbage.pth', *work],
        'empty.pth: checkpoint file is empty (0 bytes)':
        ['train.py', CONFIG, *work, '--resume', tmp_path / 'empty.pth'],
        'cut.pth: truncated or corrupt zip archive': [
            'train.py', CONFIG, *work, '--cfg-options',
            f'load_from={tmp_path / "cut.pth"}'
        ],
        'missing.pth: checkpoint file does not exist': [
            'train.py', CONFIG, *work, '--cfg-options', 'resume=True',
            f'load_from={tmp_path / "missing.pth"}'
        ],
    }


def _start(tool: str, *args) -> subprocess.Popen:
    """Run a tool, listing the modules it imports on stderr."""
    command = [sys.executable, '-X', 'importtime', f'tools/{tool}']
    return subprocess.Popen(
        command + [str(a) for a in args],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)


def test_bad_checkpoints_fail_at_once_naming_the_file(tmp_path):
    started = {
        message: (time.monotonic(), _start(*args))
        for message, args in _commands(tmp_path).items()
    }
    for message, (start, proc) in started.items():
        out, err = proc.communicate(timeout=120)
        seconds = time.monotonic() - start
        timing = [
            line for line in err.splitlines()
            if line.startswith('import time:')
        ]
        lines = [line for line in err.splitlines() if line not in timing]
        assert proc.returncode == 1, (out, err)
        assert out == '' and len(lines) == 1, lines
        assert lines[0].startswith(f'error: {tmp_path}/{message}')
        imported = {line.split('|')[-1].strip() for line in timing}
        assert 'torch' not in imported and 'mmengine.runner' not in imported
        assert seconds < 30, seconds  # the tools' imports alone are heavier


@pytest.mark.parametrize('tool', ['test', 'train'])
def test_tools_still_reach_the_runner(tool, tmp_path):
    """A good checkpoint passes the check (the toy run is tested in
    test_train_resume.py); here a state dict without training state is
    fine for ``test.py`` but refused by ``--resume``."""
    weights = tmp_path / 'weights.pth'
    torch.save(dict(state_dict={}), weights)
    args = ([CONFIG, weights]
            if tool == 'test' else [CONFIG, '--resume', weights])
    proc = _start(f'{tool}.py', *args, '--work-dir', tmp_path / 'work')
    stdout, stderr = proc.communicate(timeout=300)
    stderr = '\n'.join(line for line in stderr.splitlines()
                       if not line.startswith('import time:'))
    if tool == 'train':
        assert proc.returncode == 1
        assert stderr.strip() == (
            f'error: {weights}: not a training checkpoint: no meta epoch / '
            'iteration or message hub to resume from (weights only? start '
            'from them with load_from instead)')
    else:
        assert proc.returncode == 0, stderr[-3000:]
        assert f'Load checkpoint from {weights}' in stdout
