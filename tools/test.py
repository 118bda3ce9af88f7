"""Test (evaluate) a checkpoint, as ``mmdetection``'s ``tools/test.py``.

Examples::

    python tools/test.py <config> work_dirs/run1/best_coco_bbox_mAP_epoch_3.pth
    python tools/test.py <config> <ckpt> --out results.pkl --show-dir vis
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.utils import import_modules_from_strings

from mmfusion.utils.checkpoint_file import (CheckpointFileError,
                                            check_checkpoint_file)
from mmfusion.utils.config import load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. If specified, '
        'it will be automatically saved to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file; an entry of a '
        'list of typed dicts can be named by its type, e.g. '
        'test_dataloader.dataset.pipeline.LoadFREDImages.event_cache=True.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Switch on drawing in the config's ``visualization`` hook."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError(
            '--show / --show-dir need a "visualization" entry in '
            f'default_hooks, which {args.config} does not have.')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['test_out_dir'] = args.show_dir
    return cfg


def main() -> None:
    args = parse_args()
    # The checkpoint is checked first, before the config's modules, the
    # dataset and the runner cost their seconds.
    try:
        check_checkpoint_file(args.checkpoint)
    except CheckpointFileError as e:
        raise SystemExit(f'error: {e}') from None

    # --cfg-options may name list entries by type, e.g.
    # custom_hooks.FreezeScheduleHook.freeze_epochs=5
    cfg = load_config(
        args.config,
        args.cfg_options,
        args.work_dir,
        args.launcher,
        import_custom_modules=False)

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    from mmengine.evaluator import DumpResults
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    # mmfusion.engine also fixes checkpoint loading on torch >= 2.6
    from mmfusion.engine import setup_cpu_distributed

    # torchrun on a machine without GPUs: gloo, DDP without device ids
    setup_cpu_distributed(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)

    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl or .pickle file')
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
        print_log(
            f'predictions will be dumped to {args.out}', logger='current')

    runner.test()


if __name__ == '__main__':
    main()
