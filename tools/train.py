"""Train a model from a config, as ``mmdetection``'s ``tools/train.py``.

Examples::

    python tools/train.py configs/fred_fusion/<config>.py
    python tools/train.py <config> --work-dir work_dirs/run1 --amp
    python tools/train.py <config> --resume                 # latest ckpt
    python tools/train.py <config> --resume path/to/epoch_3.pth
    python tools/train.py <config> --cfg-options train_dataloader.batch_size=2
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.utils import import_modules_from_strings

from mmfusion.utils.checkpoint_file import (CheckpointFileError,
                                            check_checkpoint_file)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR by the total batch size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a path, from '
        'the latest checkpoint in the work directory')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def check_checkpoint(path: str, resume: bool) -> None:
    """Exit with one line naming ``path`` if it is not a checkpoint that
    loads (see :mod:`mmfusion.utils.checkpoint_file`)."""
    try:
        check_checkpoint_file(path, resume=resume)
    except CheckpointFileError as e:
        raise SystemExit(f'error: {e}') from None


def main() -> None:
    args = parse_args()
    # A named checkpoint is checked first, before the config's modules,
    # the dataset and the runner cost their seconds.
    if args.resume not in (None, 'auto'):
        check_checkpoint(args.resume, resume=True)

    cfg = Config.fromfile(args.config, import_custom_modules=False)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current')
        else:
            if optim_wrapper != 'OptimWrapper':
                raise ValueError('--amp is only supported with OptimWrapper, '
                                 f'the config uses {optim_wrapper}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.base_batch_size" in the '
                               'config, --auto-scale-lr needs them.')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    elif cfg.get('load_from'):
        check_checkpoint(cfg.load_from, resume=bool(cfg.get('resume')))

    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
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
    runner.train()


if __name__ == '__main__':
    main()
