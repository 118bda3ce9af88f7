"""Cold-start cost of ``model.compile_network``, one compile mode at a time.

Each mode runs in its own process (fresh dynamo state, empty inductor and
Triton caches) under a timeout, so one slow mode cannot take the time of
the others. The process builds the config's model with
``model.compile_network`` set to the mode's settings and trains on one
synthetic batch (random images and boxes, as ``benchmark_train.py``) at
each of the given sizes in turn, e.g. 640 and then 672: the first step at
a size pays any compilation, the following ones are timed. It reports, per
compiled module, every compilation (dynamo's trace with the forward and,
where AOTAutograd does it then, the backward; a backward compiled at its
first use separately), the seconds inductor spent compiling the forward
and the backward graphs, and per size the first step's and the steady
step's seconds. A mode that runs out of time keeps what it measured.

A mode is ``eager`` (no compilation) or ``SHAPES[,KEY=VALUE...]``: the
``compile_network`` settings of :class:`~mmfusion.engine.TrainingCompiler`
(values are Python literals), e.g. ``dynamic``, ``static``,
``dynamic,divisible_sizes=False`` or ``dynamic,backend=aot_eager``.

Examples::

    # GPU: the two dynamic variants and static shapes, at most 3 x 150 s
    python tools/analysis_tools/benchmark_compile.py \\
        configs/fred_fusion/yolox_s_dual-concat_1xb8-300e_fred.py \\
        --modes dynamic dynamic,divisible_sizes=False static \\
        --batch-size 64 --amp --sizes 640 672 --timeout 150 \\
        --out compile.json

    # CPU: the tiny demo model, dynamo and AOTAutograd without inductor
    python tools/analysis_tools/benchmark_compile.py \\
        configs/fred_fusion/yolox_w0125_dual-concat_1xb8-demo_fred-sample.py \\
        --modes eager dynamic,backend=aot_eager --device cpu \\
        --batch-size 2 --sizes 64 96
"""
import argparse
import ast
import contextlib
import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional

import torch

BENCHMARK_TRAIN = osp.join(
    osp.dirname(osp.abspath(__file__)), 'benchmark_train.py')
# inductor's timers of the forward and the backward graph compilations
FORWARD_TIMER = 'compile_fx.<locals>.fw_compiler_base'
BACKWARD_TIMER = 'compile_fx.<locals>.bw_compiler'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--modes',
        nargs='+',
        default=['dynamic', 'static'],
        help='eager, or SHAPES[,KEY=VALUE...] (compile_network settings)')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[640, 672],
        help='square input sizes, trained at in this order')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--iters', type=int, default=3, help='timed steps per size')
    parser.add_argument(
        '--amp', action='store_true', help='fp16 autocast (bf16 on CPU)')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--timeout',
        type=float,
        default=150,
        help='seconds per mode, its process start included')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='config overrides key=value, applied in every mode')
    parser.add_argument(
        '--result', help=argparse.SUPPRESS)  # a mode's process: its file
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error('--iters must be >= 1')
    return args


def compile_settings(mode: str) -> Optional[Dict[str, Any]]:
    """``model.compile_network`` of a mode: None for ``eager``.

    Args:
        mode (str): ``eager`` or ``SHAPES[,KEY=VALUE...]``.

    Returns:
        dict, optional: e.g. ``{'shapes': 'dynamic', 'backend':
        'aot_eager'}``.
    """
    if mode == 'eager':
        return None
    shapes, *pairs = _split_top_level(mode)
    settings: Dict[str, Any] = dict(shapes=shapes)
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise ValueError(f'mode {mode!r}: {pair!r} is not KEY=VALUE')
        try:
            settings[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            settings[key] = value  # a bare word, e.g. backend=aot_eager
    return settings


def _split_top_level(text: str) -> List[str]:
    """Split at the commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in '([{'
        depth -= char in ')]}'
        if char == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _load_benchmark_train():
    spec = importlib.util.spec_from_file_location('benchmark_train',
                                                  BENCHMARK_TRAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CompilePhases:
    """Seconds inductor spent compiling forward and backward graphs
    during each compilation dynamo reports, in the order they end.

    Args:
        on_end (callable): Called after each compilation.
    """

    def __init__(self, on_end: Callable[[], None]) -> None:
        from torch._dynamo.callback import callback_handler
        from torch._dynamo.utils import compilation_time_metrics
        self._metrics = compilation_time_metrics
        self._on_end_hook = on_end
        self._marks: List[Dict[str, int]] = []
        self.phases: List[Dict[str, float]] = []
        callback_handler.register_start_callback(self._on_start)
        callback_handler.register_end_callback(self._on_end)

    def _lengths(self) -> Dict[str, int]:
        return {
            t: len(self._metrics.get(t, ()))
            for t in (FORWARD_TIMER, BACKWARD_TIMER)
        }

    def _on_start(self, *args, **kwargs) -> None:
        self._marks.append(self._lengths())

    def _on_end(self, *args, **kwargs) -> None:
        mark = self._marks.pop() if self._marks else self._lengths()
        seconds = {
            timer: sum(self._metrics.get(timer, [])[mark[timer]:])
            for timer in (FORWARD_TIMER, BACKWARD_TIMER)
        }
        self.phases.append(
            dict(
                forward_s=round(seconds[FORWARD_TIMER], 3),
                backward_s=round(seconds[BACKWARD_TIMER], 3)))
        self._on_end_hook()


def run_mode(args: argparse.Namespace, mode: str) -> None:
    """Train the model of one mode at each size; the results go to
    ``args.result`` after every size."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import MODELS, init_default_scope

    from mmfusion.engine import amp_optim_wrapper, get_compile_log
    from mmfusion.utils import atomic_write_text
    from mmfusion.utils.config import load_config

    bench = _load_benchmark_train()
    cfg_options = _parse_cfg_options(args.cfg_options)
    settings = compile_settings(mode)
    cfg_options['model.compile_network'] = settings or False
    cfg = load_config(args.config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    torch.backends.cudnn.benchmark = bool(
        cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    # the sizes are chosen here, not by the multi-scale resizer
    cfg.model.data_preprocessor.pop('batch_augments', None)
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model).to(args.device)
    model.train()
    on_cuda = args.device.startswith('cuda')
    optim_cfg = cfg.optim_wrapper.copy()
    if args.amp and on_cuda:  # as tools/train.py --amp
        optim_cfg = amp_optim_wrapper(optim_cfg)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    cpu_autocast = args.amp and not on_cuda

    def step(batch: dict) -> None:
        data = model.data_preprocessor(batch, True)
        autocast = torch.autocast('cpu', torch.bfloat16) \
            if cpu_autocast else contextlib.nullcontext()
        with optim_wrapper.optim_context(model), autocast:
            losses = model._run_forward(data, mode='loss')
            loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
        if on_cuda:
            torch.cuda.synchronize()

    log = get_compile_log()
    first_event = len(log)
    result = dict(
        mode=mode,
        compile_network=settings,
        device=(torch.cuda.get_device_name() if on_cuda else 'cpu'),
        torch=torch.__version__,
        batch_size=args.batch_size,
        amp=args.amp,
        channels_last=bool(cfg.model.get('channels_last', False)),
        sizes=[],
        compilations=[])
    current = dict(size=None)

    def save() -> None:
        """Add the compilations that ended since the last save and write
        the results (also from inside a compilation: a mode that times
        out keeps the compilations it finished)."""
        events = log.events(first_event)
        done = result['compilations']
        for event, phase in zip(events[len(done):], phases.phases[len(done):]):
            done.append(
                dict(
                    size=current['size'],
                    module=event.module,
                    kind=event.kind,
                    compile_id=event.compile_id,
                    input_shapes=[list(s) for s in event.input_shapes],
                    seconds=round(event.seconds, 3),
                    **phase))
        atomic_write_text(args.result, json.dumps(result, indent=2))

    phases = CompilePhases(save)
    gen = torch.Generator().manual_seed(args.seed)
    for size in args.sizes:
        batch = bench.synthetic_batch(cfg, args.batch_size, size, size, 8,
                                      cfg.model.bbox_head.num_classes, gen)
        current['size'] = size
        num_events = len(log)
        start = time.perf_counter()
        step(batch)
        first = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(args.iters):
            step(batch)
        steady = (time.perf_counter() - start) / args.iters
        result['sizes'].append(
            dict(
                size=size,
                first_step_s=round(first, 3),
                step_s=round(steady, 4),
                images_per_s=round(args.batch_size / steady, 1),
                compilations=len(log) - num_events))
        save()


def _parse_cfg_options(pairs: List[str]) -> Dict[str, Any]:
    """``key=value`` overrides, values parsed as ``--cfg-options`` does."""
    from mmengine.config import DictAction
    parsed: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep:
            raise ValueError(f'--cfg-options: {pair!r} is not key=value')
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def mode_argv(args: argparse.Namespace, mode: str,
              result_file: str) -> List[str]:
    """The command-line arguments of a mode's process."""
    argv = [
        args.config, '--modes', mode, '--sizes', *map(str, args.sizes),
        '--batch-size',
        str(args.batch_size), '--iters',
        str(args.iters), '--device', args.device, '--seed',
        str(args.seed), '--result', result_file
    ]
    if args.amp:
        argv.append('--amp')
    if args.cfg_options:
        argv += ['--cfg-options', *args.cfg_options]
    return argv


def spawn_mode(args: argparse.Namespace, mode: str,
               work_dir: str) -> Dict[str, Any]:
    """Run one mode in its own process with empty compiler caches; kill
    its process group at the timeout.

    Returns:
        dict: The mode's results, with ``status`` (``'ok'``,
        ``'timeout'`` or ``'failed'``), ``wall_s`` and, unless ok, the end
        of its output in ``output_tail``.
    """
    result_file = osp.join(work_dir, f'{len(os.listdir(work_dir))}.json')
    env = dict(
        os.environ,
        TORCHINDUCTOR_CACHE_DIR=tempfile.mkdtemp(dir=work_dir),
        TRITON_CACHE_DIR=tempfile.mkdtemp(dir=work_dir))
    cmd = [sys.executable, osp.abspath(__file__)] + mode_argv(
        args, mode, result_file)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=args.timeout)
        status = 'ok' if proc.returncode == 0 else 'failed'
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # inductor's compile workers too
        output, _ = proc.communicate()
        status = 'timeout'
    result = dict(mode=mode, compile_network=compile_settings(mode))
    if osp.exists(result_file):
        with open(result_file) as f:
            result.update(json.load(f))
    result.update(status=status, wall_s=round(time.perf_counter() - start, 1))
    if status != 'ok':
        result['output_tail'] = output[-3000:]
    return result


def print_table(results: List[Dict[str, Any]]) -> None:
    """Per mode: compilations per module (seconds of dynamo's, inductor's
    forward and backward), then each size's first and steady step."""
    for r in results:
        print(f'\n== {r["mode"]}: {r["status"]} after {r["wall_s"]} s')
        print(f'  {"size":>5s} {"module":16s} {"kind":14s} {"total s":>8s} '
              f'{"fwd s":>7s} {"bwd s":>7s}')
        for c in r.get('compilations', []):
            print(f'  {c["size"]:5d} {str(c["module"]):16s} {c["kind"]:14s} '
                  f'{c["seconds"]:8.1f} {c["forward_s"]:7.1f} '
                  f'{c["backward_s"]:7.1f}')
        for s in r.get('sizes', []):
            print(f'  size {s["size"]}: {s["compilations"]} compilations, '
                  f'first step {s["first_step_s"]:.1f} s, then '
                  f'{s["step_s"]} s/step ({s["images_per_s"]} img/s)')


def main() -> None:
    args = parse_args()
    if args.result:  # one mode, in the process spawn_mode started
        (mode, ) = args.modes
        run_mode(args, mode)
        return
    for mode in args.modes:
        compile_settings(mode)  # a malformed mode fails before any run
    with tempfile.TemporaryDirectory() as work_dir:
        results = [spawn_mode(args, mode, work_dir) for mode in args.modes]
    print_table(results)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    sizes=args.sizes,
                    batch_size=args.batch_size,
                    timeout_s=args.timeout,
                    results=results),
                f,
                indent=2)


if __name__ == '__main__':
    main()
