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
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.utils import import_modules_from_strings

from mmfusion.utils.checkpoint_file import (CheckpointFileError,
                                            check_checkpoint_file)
from mmfusion.utils.config import load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
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
    args = parser.parse_args(argv)
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


def build_config(args: argparse.Namespace) -> Config:
    """The config of a run: the file, ``--cfg-options``, the work
    directory, ``--amp``, ``--auto-scale-lr`` and ``--resume``.

    A checkpoint named by ``--resume PATH`` or ``load_from`` is checked
    first, before the config's modules, the dataset and the runner cost
    their seconds; the config's ``custom_imports`` are imported by
    :func:`build_runner`.
    """
    if args.resume not in (None, 'auto'):
        check_checkpoint(args.resume, resume=True)
    # --cfg-options may name list entries by type, e.g.
    # custom_hooks.FreezeScheduleHook.freeze_epochs=5
    cfg = load_config(
        args.config,
        args.cfg_options,
        args.work_dir,
        args.launcher,
        import_custom_modules=False)
    if args.resume is None and cfg.get('load_from'):
        check_checkpoint(cfg.load_from, resume=bool(cfg.get('resume')))

    if args.amp:
        from mmfusion.engine.optim_wrappers import amp_optim_wrapper

        # FiniteOptimWrapper -> FiniteAmpOptimWrapper: the check stays
        cfg.optim_wrapper = amp_optim_wrapper(cfg.optim_wrapper)

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
    return cfg


def build_runner(cfg: Config):
    """The runner of a config (after :func:`build_config`), with the
    config's modules imported."""
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    # mmfusion.engine also fixes checkpoint loading on torch >= 2.6
    from mmfusion.engine import setup_cpu_distributed

    # torchrun on a machine without GPUs: gloo, DDP without device ids
    setup_cpu_distributed(cfg)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def main(argv: Optional[List[str]] = None) -> None:
    build_runner(build_config(parse_args(argv))).train()


if __name__ == '__main__':
    main()
