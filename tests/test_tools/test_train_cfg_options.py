"""tools/train.py applies --cfg-options and --work-dir like mmdetection;
list entries can also be named by their type."""
import subprocess
import sys
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'tests' / 'test_mmfusion' / 'toy_classifier_config.py'


def test_cfg_options_override_the_config(tmp_path):
    work_dir = tmp_path / 'run'
    proc = subprocess.run([
        sys.executable, 'tools/train.py',
        str(CONFIG), '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_epochs=2',
        'optim_wrapper.optimizer.lr=0.05',
        'default_hooks.checkpoint.interval=2',
        'param_scheduler.MultiStepLR.gamma=0.5'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    dumped = Config.fromfile(str(work_dir / CONFIG.name))
    assert dumped.train_cfg.max_epochs == 2
    assert dumped.optim_wrapper.optimizer.lr == 0.05
    assert dumped.param_scheduler[0].gamma == 0.5
    assert sorted(p.name
                  for p in work_dir.glob('epoch_*.pth')) == ['epoch_2.pth']
