"""``tools/test.py`` on two processes gives the predictions and metrics of
one process (torchrun as in ``tools/dist_test.sh``; on this CPU the config's
nccl becomes gloo, see ``mmfusion.engine.setup_cpu_distributed``)."""
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np

from tests.test_fred_fusion.checkpoints import init_checkpoint
from tests.test_mmfusion.toy_modules import cpu_only_env, free_port

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
# an odd number of test images: the distributed sampler pads the last batch
# with a repeated image and the gathered results must drop it again
NUM_IMAGES = 5


def run_test_tool(launcher: list, ckpt: str, work_dir: str, root: str,
                  extra: list) -> tuple:
    """Run ``tools/test.py``; returns the dumped predictions and the
    metrics of the ``Epoch(test)`` log line."""
    loader = 'test_dataloader.'
    out = osp.join(work_dir, 'preds.pkl')
    cmd = launcher + [
        'tools/test.py',
        CONFIG,
        ckpt,
        '--work-dir',
        work_dir,
        '--out',
        out,
        '--cfg-options',
        f'{loader}dataset.data_root={root}',
        f'{loader}dataset.indices={NUM_IMAGES}',
        f'{loader}num_workers=0',
        f'{loader}persistent_workers=False',
        f'{loader}batch_size=2',
        # keep the untrained detector's low-scored boxes to compare them
        'model.test_cfg.score_thr=0.0'
    ] + extra
    # no GPU visible: the CPU / gloo path also on a machine with GPUs
    env = cpu_only_env(OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    (line, ) = [x for x in log.splitlines() if 'Epoch(test)' in x]
    metrics = dict(re.findall(r'(coco/\w+): (-?[\d.]+)', line))
    assert 'coco/bbox_mAP' in metrics, line
    with open(out, 'rb') as f:
        return pickle.load(f), metrics


def test_two_process_test_equals_one_process(fred_tiny_root, tmp_path):
    ckpt = init_checkpoint(CONFIG, str(tmp_path / 'model.pth'))
    single_preds, single_metrics = run_test_tool([sys.executable], ckpt,
                                                 str(tmp_path / 'one'),
                                                 fred_tiny_root, [])
    dist_preds, dist_metrics = run_test_tool([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}'
    ], ckpt, str(tmp_path / 'two'), fred_tiny_root, ['--launcher', 'pytorch'])

    assert len(single_preds) == len(dist_preds) == NUM_IMAGES
    assert ([p['img_id']
             for p in dist_preds] == [p['img_id'] for p in single_preds])
    assert len({p['img_id'] for p in dist_preds}) == NUM_IMAGES
    num_boxes = 0
    for one, two in zip(single_preds, dist_preds):
        a, b = one['pred_instances'], two['pred_instances']
        assert len(a['scores']) == len(b['scores'])
        num_boxes += len(a['scores'])
        np.testing.assert_array_equal(a['labels'].numpy(), b['labels'].numpy())
        np.testing.assert_allclose(
            a['scores'].numpy(), b['scores'].numpy(), atol=1e-5)
        np.testing.assert_allclose(
            a['bboxes'].numpy(), b['bboxes'].numpy(), atol=1e-3)
    assert num_boxes > 0
    assert dist_metrics == single_metrics
