"""End-to-end training speed of configs through the real ``tools/train.py``
loop.

Each run builds its config and Runner exactly as ``tools/train.py`` does
(the same ``--amp`` and ``--cfg-options``, hooks, dataloader with its
workers), adds :class:`~mmfusion.engine.TrainSpeedMonitorHook` and trains
until the hook has measured its window after the warm-up (see the hook
for what is measured and when the window starts), then stops at the end
of that epoch. For the benchmark, validation and checkpoint saving are
off, the freeze stage of ``FreezeScheduleHook`` is skipped (unless
``--keep-freeze``) and ``max_epochs`` is raised so that no end-of-schedule
switch (``YOLOXModeSwitchHook``) happens.

Every run is its own process (one after another, so compile caches and
memory peaks do not leak from one into the next); by default each gets a
fresh inductor cache, so its compile times are those of a first run. The
results of all runs go to one JSON file and a printed table.

Examples::

    # stock mmdet YOLOX-s vs. this project's dual model, eager / compiled
    python tools/analysis_tools/benchmark_train_e2e.py \\
        --run stock configs/fred_fusion/yolox_s_mmdet-stock_8xb8-300e_fred-rgb.py \\
        --run dual configs/fred_fusion/yolox_s_dual-concat_1xb8-300e_fred.py \\
        --run dual-compiled configs/fred_fusion/yolox_s_dual-concat_1xb8-300e_fred.py \\
            model.compile_network=True \\
        --data-root data/fred_large --amp --batch-size 64 --num-workers 16 \\
        --warmup-iters 20 --window-iters 200 --out e2e.json
"""  # noqa: E501
import argparse
import copy
import faulthandler
import importlib.util
import json
import logging
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import List, Optional, Tuple

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_TOOL = osp.join(REPO, 'tools', 'train.py')
# more epochs than any benchmark needs: the hook stops the run
MAX_EPOCHS = 100000
NEVER = 10**9
# when this process started (near enough: the module is its script)
STARTED = time.time()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--run',
        nargs='+',
        action='append',
        required=True,
        metavar='NAME CONFIG [KEY=VALUE ...]',
        help='a run: its name, its config and its own --cfg-options '
        '(repeat for several runs)')
    parser.add_argument(
        '--amp', action='store_true', help='tools/train.py --amp')
    parser.add_argument(
        '--batch-size', type=int, help='training batch size (per GPU)')
    parser.add_argument(
        '--num-workers', type=int, help='training dataloader workers')
    parser.add_argument(
        '--data-root', help='data root of the training dataset')
    parser.add_argument(
        '--warmup-iters',
        type=int,
        default=10,
        help='least number of warm-up iterations')
    parser.add_argument(
        '--window-iters',
        type=int,
        default=200,
        help='iterations measured after the warm-up')
    parser.add_argument(
        '--drain-iters',
        type=int,
        help='warm-up iterations after the last one-time stall; default: '
        'num_workers x prefetch_factor')
    parser.add_argument(
        '--no-cycle-sizes',
        action='store_true',
        help='keep the random multi-scale sizes in the warm-up instead of '
        'training once at each size')
    parser.add_argument(
        '--size-passes',
        type=int,
        default=1,
        metavar='N',
        help='passes over the multi-scale sizes in the warm-up (CUDA graphs, '
        'model.compile_network.mode=reduce-overhead: 3, run once, recorded, '
        'replayed)')
    parser.add_argument(
        '--repeat-dataset',
        type=int,
        default=1,
        metavar='N',
        help='train on the dataset repeated N times an epoch '
        '(RepeatDataset), so that a small sample has epochs as long as a '
        "real split's and the first batch of an epoch, built while the "
        'workers have nothing queued, does not count as often')
    parser.add_argument(
        '--profile-iters',
        type=int,
        default=0,
        metavar='N',
        help='trace N iterations after the window with torch.profiler '
        '(profile_trace.json.gz and profile_ops.txt in the run folder)')
    parser.add_argument(
        '--keep-freeze',
        action='store_true',
        help="keep the freeze stage of the configs' FreezeScheduleHook")
    parser.add_argument(
        '--shared-compile-cache',
        action='store_true',
        help='use the default inductor cache (warm after a first run) '
        'instead of a fresh one per run')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/benchmark_train_e2e',
        help='a folder per run is made in it')
    parser.add_argument('--out', help='JSON file of all results')
    parser.add_argument(
        '--run-timeout',
        type=float,
        default=600,
        help='seconds a run may take before it is stopped')
    parser.add_argument(
        '--stop-margin',
        type=float,
        default=45,
        help='the window ends early (results marked incomplete) when a '
        'run has taken --run-timeout minus this many seconds, to leave '
        'time for the rest of its epoch')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='overrides applied to every run (before its own), as for '
        'tools/train.py')
    # internal: run one benchmark in this process
    parser.add_argument(
        '--single', action='store_true', help=argparse.SUPPRESS)
    # internal: when the parent stops the run (seconds since the epoch)
    parser.add_argument('--deadline', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for run in args.run:
        if len(run) < 2:
            parser.error(f'--run needs a NAME and a CONFIG, got {run}')
    names = [run[0] for run in args.run]
    if len(set(names)) != len(names):
        parser.error(f'run names must be distinct, got {names}')
    for flag in ('repeat_dataset', 'profile_iters'):
        least = 1 if flag == 'repeat_dataset' else 0
        if getattr(args, flag) < least:
            parser.error(f'--{flag.replace("_", "-")} must be >= {least}, '
                         f'got {getattr(args, flag)}')
    if args.single and len(args.run) != 1:
        parser.error('--single takes exactly one --run')
    return args


def load_train_tool():
    """``tools/train.py`` as a module (its ``build_config`` and
    ``build_runner``)."""
    spec = importlib.util.spec_from_file_location('train_tool', TRAIN_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def innermost_dataset(cfg: dict) -> dict:
    """The dataset config inside dataset wrappers (``dataset=...``)."""
    while 'dataset' in cfg:
        cfg = cfg['dataset']
    return cfg


def benchmark_config(args: argparse.Namespace, train, config: str,
                     options: List[str], work_dir: str,
                     out_file: str) -> Config:
    """The config ``tools/train.py`` (the module ``train``) would run, with
    the benchmark's settings and :class:`TrainSpeedMonitorHook`."""
    train_argv = [config, '--work-dir', work_dir]
    if args.amp:
        train_argv.append('--amp')
    if args.cfg_options or options:
        train_argv += ['--cfg-options', *args.cfg_options, *options]
    cfg = train.build_config(train.parse_args(train_argv))

    loader = cfg.train_dataloader
    if args.batch_size is not None:
        loader.batch_size = args.batch_size
    if args.num_workers is not None:
        loader.num_workers = args.num_workers
        if args.num_workers == 0:
            loader.persistent_workers = False
    if args.data_root is not None:
        innermost_dataset(loader)['data_root'] = args.data_root
    if args.repeat_dataset > 1:
        loader.dataset = dict(
            type='RepeatDataset',
            times=args.repeat_dataset,
            dataset=loader.dataset)
    cfg.train_cfg.max_epochs = MAX_EPOCHS
    # no validation loop (nor its dataset and workers)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    checkpoint = cfg.default_hooks.get('checkpoint')
    if checkpoint is not None:
        checkpoint.update(interval=NEVER, save_last=False)
    hooks = copy.deepcopy(cfg.get('custom_hooks', []))
    for hook in hooks:
        if hook['type'] == 'FreezeScheduleHook':
            if not args.keep_freeze:
                hook['freeze_epochs'] = 0
                hook['unfreeze_batch_size'] = loader.batch_size
            elif args.batch_size is not None:
                hook['freeze_batch_size'] = args.batch_size
                hook['unfreeze_batch_size'] = args.batch_size
    hooks.append(
        dict(
            type='TrainSpeedMonitorHook',
            window_iters=args.window_iters,
            warmup_iters=args.warmup_iters,
            drain_iters=args.drain_iters,
            cycle_sizes=0 if args.no_cycle_sizes else args.size_passes,
            out_file=out_file,
            # set again when the run starts (see window_time_limit)
            time_limit_s=max(0.0, args.run_timeout - args.stop_margin),
            profile_iters=args.profile_iters))
    cfg.custom_hooks = hooks
    imports = cfg.get('custom_imports', dict(imports=[]))
    # the hook's registry module (configs of other projects may not load it)
    if 'mmfusion.engine' not in imports['imports']:
        imports['imports'] = list(imports['imports']) + ['mmfusion.engine']
        cfg.custom_imports = imports
    return cfg


def run_single(args: argparse.Namespace) -> None:
    """Train one run in this process; write its record to ``args.out``."""
    import torch

    # `kill -USR1 PID` prints where every thread of a run is (e.g. one
    # that seems stuck) into its log, and the run goes on
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    (name, config, *options), = args.run
    work_dir = osp.abspath(args.work_dir)
    hook_file = osp.join(work_dir, 'train_speed.json')
    start = time.perf_counter()
    train = load_train_tool()
    cfg = benchmark_config(args, train, config, options, work_dir, hook_file)
    runner = train.build_runner(cfg)
    for hook in runner.hooks:
        if type(hook).__name__ == 'TrainSpeedMonitorHook':
            hook.time_limit_s = window_time_limit(args, time.time())
    runner.train()
    if not osp.isfile(hook_file):
        raise RuntimeError(f'{name}: training ended before '
                           'TrainSpeedMonitorHook measured anything '
                           f'(see the log in {work_dir})')
    with open(hook_file) as f:
        results = json.load(f)
    record = dict(
        name=name,
        config=config,
        cfg_options=list(options),
        common_cfg_options=args.cfg_options,
        amp=args.amp,
        batch_size=cfg.train_dataloader.batch_size,
        num_workers=cfg.train_dataloader.num_workers,
        torch=torch.__version__,
        device=torch.cuda.get_device_name()
        if torch.cuda.is_available() else 'cpu',
        cpu_count=os.cpu_count(),
        process_s=time.perf_counter() - start,
        train_dataset=dict(
            type=cfg.train_dataloader.dataset['type'],
            size=len(runner.train_dataloader.dataset)),
        results=results)
    with open(args.out, 'w') as f:
        json.dump(record, f, indent=2)
    # Done: leave without the interpreter's shutdown, in which the
    # persistent dataloader workers took 50-100 s to stop on the GPU
    # machine (the parent stops what is left of the run's processes).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def window_time_limit(args: argparse.Namespace, now: float) -> float:
    """Seconds the speed monitor may let a run train from ``now`` before it
    ends the window early: what is left until the run is stopped
    (``--run-timeout`` from the run's start, its process's start by
    default) less ``--stop-margin``. The start-up before training
    (imports, building the runner) is used up: counted from the start of
    training, the limit let runs on the GPU machine with margins of 15-20
    s be stopped before their windows ended, with no results."""
    deadline = args.deadline
    if deadline is None:
        deadline = STARTED + args.run_timeout
    return max(0.0, deadline - args.stop_margin - now)


def child_argv(args: argparse.Namespace, run: List[str], work_dir: str,
               out: str) -> List[str]:
    """Command line of the process that benchmarks one run."""
    argv = [sys.executable, osp.abspath(__file__), '--single', '--run', *run]
    argv += ['--work-dir', work_dir, '--out', out]
    argv += [
        '--warmup-iters',
        str(args.warmup_iters), '--window-iters',
        str(args.window_iters), '--run-timeout',
        str(args.run_timeout), '--stop-margin',
        str(args.stop_margin)
    ]
    for flag, value in (('--batch-size', args.batch_size), ('--num-workers',
                                                            args.num_workers),
                        ('--data-root', args.data_root), ('--drain-iters',
                                                          args.drain_iters),
                        ('--repeat-dataset', args.repeat_dataset),
                        ('--profile-iters', args.profile_iters),
                        ('--size-passes', args.size_passes)):
        if value is not None:
            argv += [flag, str(value)]
    for flag, on in (('--amp', args.amp), ('--no-cycle-sizes',
                                           args.no_cycle_sizes),
                     ('--keep-freeze', args.keep_freeze)):
        if on:
            argv.append(flag)
    if args.cfg_options:
        argv += ['--cfg-options', *args.cfg_options]
    return argv


def run_child(args: argparse.Namespace, run: List[str]) -> dict:
    """Benchmark one run in its own process; its record, or an error."""
    name = run[0]
    work_dir = osp.abspath(osp.join(args.work_dir, name))
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, 'record.json')
    if osp.exists(out):
        os.remove(out)
    env = dict(os.environ)
    if not args.shared_compile_cache:
        env['TORCHINDUCTOR_CACHE_DIR'] = osp.join(work_dir, 'inductor_cache')
    log_path = osp.join(work_dir, 'output.log')
    start = time.perf_counter()
    print(f'[{name}] {" ".join(run[1:])}', flush=True)
    with open(log_path, 'w') as log:
        argv = child_argv(args, run, work_dir, out)
        argv += ['--deadline', str(time.time() + args.run_timeout)]
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            code = proc.wait(timeout=args.run_timeout)
            error = None if code == 0 else f'exit status {code}'
        except subprocess.TimeoutExpired:
            error = f'stopped after {args.run_timeout:.0f} s'
        ended = time.time()
        # also the run's dataloader workers, if any outlived it
        stop_process_group(proc)
    seconds = time.perf_counter() - start
    if osp.isfile(out):
        # The record is written when training has returned; a process that
        # then does not exit in time (e.g. dataloader workers that are slow
        # to shut down) keeps its results, with a note.
        with open(out) as f:
            record = json.load(f)
        if error is not None:
            record['exit_problem'] = (
                f'{error}, {ended - os.path.getmtime(out):.0f} s after its '
                'results were written')
            print(f'[{name}] {record["exit_problem"]}', flush=True)
        return record
    with open(log_path) as f:
        tail = f.read()[-3000:]
    print(f'[{name}] failed ({error}); log: {log_path}\n{tail}', flush=True)
    return dict(
        name=name,
        config=run[1],
        cfg_options=run[2:],
        error=error or 'no results written',
        process_s=seconds,
        log=log_path)


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a run's process and its dataloader workers (its session)."""
    if proc.poll() is not None:
        # the run has exited: only workers can be left
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _get(record: dict, *keys) -> Optional[float]:
    value = record.get('results')
    for key in keys:
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        value = value[key]
    return value


def table_rows(records: List[dict]) -> Tuple[List[str], List[List[str]]]:
    """Header and rows of the printed table."""
    header = [
        'run', 'window it', 'img/s', 'x first', 'data wait %', 'GPU busy %',
        'peak alloc GiB', 'peak resv GiB', 'compile s', 'new size s',
        'worker ms/sample', 'iter median s', 'iter p90 s', 'full GC s'
    ]
    base = _get(records[0], 'window', 'images_per_s') if records else None

    def fmt(value, spec='.1f', scale=1.0):
        return '-' if value is None else format(value * scale, spec)

    rows = []
    for r in records:
        if 'error' in r:
            rows.append([r['name'], f'failed: {r["error"]}'] + [''] *
                        (len(header) - 2))
            continue
        ips = _get(r, 'window', 'images_per_s')
        iters = (f"{_get(r, 'window', 'iters')}/"
                 f"{_get(r, 'window', 'requested_iters')}")
        rows.append([
            r['name'],
            iters,
            fmt(ips),
            fmt(ips / base if ips and base else None, '.2f'),
            fmt(_get(r, 'window', 'data_wait_fraction'), '.1f', 100),
            fmt(_get(r, 'gpu', 'busy_percent')),
            fmt(_get(r, 'memory', 'peak_allocated_gib'), '.2f'),
            fmt(_get(r, 'memory', 'peak_reserved_gib'), '.2f'),
            fmt(_get(r, 'one_time', 'compile_s')),
            fmt(_get(r, 'one_time', 'new_size_stall_s')),
            fmt(_get(r, 'workers', 'cpu_ms_per_sample')),
            fmt(_get(r, 'window', 'iter_s', 'median'), '.3f'),
            fmt(_get(r, 'window', 'iter_s', 'p90'), '.3f'),
            fmt(_get(r, 'window', 'gc', 'gen2', 'seconds'), '.2f'),
        ])
    return header, rows


def print_table(records: List[dict]) -> None:
    header, rows = table_rows(records)
    widths = [
        max(len(str(x)) for x in column) for column in zip(header, *rows)
    ]
    for line in [header] + rows:
        print('  '.join(
            str(x).rjust(w) if i else str(x).ljust(w)
            for i, (x, w) in enumerate(zip(line, widths))))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.single:
        run_single(args)
        return 0
    records = [run_child(args, run) for run in args.run]
    print()
    print_table(records)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    settings=dict(
                        amp=args.amp,
                        batch_size=args.batch_size,
                        num_workers=args.num_workers,
                        data_root=args.data_root,
                        warmup_iters=args.warmup_iters,
                        window_iters=args.window_iters,
                        drain_iters=args.drain_iters,
                        cycle_sizes=not args.no_cycle_sizes,
                        size_passes=args.size_passes,
                        keep_freeze=args.keep_freeze,
                        repeat_dataset=args.repeat_dataset,
                        profile_iters=args.profile_iters,
                        cfg_options=args.cfg_options),
                    runs=records),
                f,
                indent=2)
    return 0 if all('error' not in r for r in records) else 1


if __name__ == '__main__':
    sys.exit(main())
