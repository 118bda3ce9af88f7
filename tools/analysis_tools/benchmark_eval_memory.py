"""Peak memory of ``tools/test.py`` against the size of the test set.

Example::

    python tools/misc/generate_fred_sample.py data/fred_eval10k \\
        --preset demo --num-sequences 42 --num-test 40 --num-frames 250
    python tools/dataset_converters/fred_converter.py data/fred_eval10k
    python tools/analysis_tools/benchmark_eval_memory.py \\
        configs/fred_fusion/yolox_w0125_dual-concat_1xb8-demo_fred-sample.py \\
        work_dirs/fred_demo/best_coco_bbox_mAP_epoch_20.pth \\
        --data-root data/fred_eval10k --sizes 1000 10000 \\
        --evaluators FREDCocoMetric CocoMetric

For every evaluator and every size N, ``tools/test.py`` runs as its own
process on the first N images of the test split
(``test_dataloader.dataset.indices=N``; the number of images evaluated,
after the dataset dropped unpaired frames, is shown), with the config's
data loader
(worker processes included) and ``test_evaluator.type`` set to the
evaluator. The peak resident memory of the run (``ru_maxrss`` of the
process and its workers, from ``wait4``: inference and the COCO evaluation
at the end) and the mAP it prints are shown, then for each evaluator the
peak of the largest size relative to the smallest. ``--device`` runs on a
GPU (``CUDA_VISIBLE_DEVICES``); the CPU memory is measured there too.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METRIC = re.compile(r'(coco/bbox_mAP(?:_50|_75)?): (-?[\d.]+)')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Peak RSS of tools/test.py by test-set size')
    parser.add_argument('config', help='FRED test config')
    parser.add_argument('checkpoint', help='checkpoint to test')
    parser.add_argument(
        '--data-root', required=True, help='converted FRED data root')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[1000, 10000],
        help='numbers of test images')
    parser.add_argument(
        '--evaluators',
        nargs='+',
        default=['FREDCocoMetric'],
        help='test_evaluator types to compare, e.g. FREDCocoMetric '
        'CocoMetric (mmdet)')
    parser.add_argument(
        '--device',
        default=None,
        help='CUDA device index for CUDA_VISIBLE_DEVICES (default: the '
        'environment\'s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='further key=value overrides passed to tools/test.py')
    return parser.parse_args(argv)


def num_images(args: argparse.Namespace, size: int) -> int:
    """Images of the test dataset with ``indices=size``."""
    from mmdet.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(args.config)
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    data = cfg.test_dataloader.dataset
    data.update(
        data_root=args.data_root.rstrip('/') + '/', indices=size, pipeline=[])
    return len(DATASETS.build(data))


def run_test(args: argparse.Namespace, evaluator: str, size: int,
             work_dir: str) -> Dict[str, float]:
    """Run ``tools/test.py`` once; its peak RSS (MiB), mAP and time."""
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'), args.config, args.checkpoint,
        '--work-dir', work_dir, '--cfg-options',
        f'test_dataloader.dataset.data_root={args.data_root.rstrip("/")}/',
        f'test_dataloader.dataset.indices={size}',
        f'test_evaluator.type={evaluator}', *args.cfg_options
    ]
    env = dict(os.environ)
    if args.device is not None:
        env['CUDA_VISIBLE_DEVICES'] = args.device
    log_path = osp.join(work_dir, 'test.log')
    start = time.time()
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.time() - start
    with open(log_path) as f:
        text = f.read()
    if status != 0:
        raise RuntimeError(f'tools/test.py failed ({log_path}):\n'
                           f'{text[-3000:]}')
    lines = [line for line in text.splitlines() if 'Epoch(test)' in line]
    metrics = dict(METRIC.findall(lines[-1])) if lines else {}
    return dict(
        images=num_images(args, size),
        peak_mib=usage.ru_maxrss / 1024,
        seconds=seconds,
        **{
            k: float(v)
            for k, v in metrics.items()
        })


def main(argv=None) -> int:
    args = parse_args(argv)
    rows: List[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        for evaluator in args.evaluators:
            for size in args.sizes:
                work_dir = osp.join(tmp, f'{evaluator}_{size}')
                os.makedirs(work_dir)
                result = run_test(args, evaluator, size, work_dir)
                rows.append((evaluator, size, result))
                print(
                    f'{evaluator} {result["images"]} images: peak RSS '
                    f'{result["peak_mib"]:.0f} MiB, mAP '
                    f'{result.get("coco/bbox_mAP", float("nan")):.4f}, '
                    f'{result["seconds"]:.0f} s',
                    flush=True)
    print('\n| evaluator | test images | peak RSS (MiB) | mAP | mAP50 | '
          'mAP75 | wall time (s) |')
    print('|---|---|---|---|---|---|---|')
    for evaluator, size, r in rows:
        print(f'| {evaluator} | {r["images"]} | {r["peak_mib"]:.0f} | '
              f'{r.get("coco/bbox_mAP", float("nan")):.4f} | '
              f'{r.get("coco/bbox_mAP_50", float("nan")):.4f} | '
              f'{r.get("coco/bbox_mAP_75", float("nan")):.4f} | '
              f'{r["seconds"]:.0f} |')
    for evaluator in args.evaluators:
        peaks = {
            r['images']: r['peak_mib']
            for e, _, r in rows if e == evaluator
        }
        small, large = min(peaks), max(peaks)
        if small != large:
            print(f'{evaluator}: peak at {large} images = '
                  f'{peaks[large] / peaks[small]:.3f} x the peak at {small}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
