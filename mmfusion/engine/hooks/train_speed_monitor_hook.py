"""Steady-state speed of a training run, after a warm-up."""
import gc
import gzip
import json
import math
import os
import os.path as osp
import shutil
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..compile_log import get_compile_log
from ..model_utils import unwrap_model
from ..multi_scale import multi_scale_resizers, multi_scale_sizes

DATA_BATCH = Optional[Union[dict, tuple, list]]
GIB = 2**30


def _percentiles(values: Sequence[float]) -> dict:
    """Mean, median and tail of a list of durations (seconds)."""
    if not values:
        return {}
    s = sorted(values)

    def q(p: float) -> float:
        return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]

    return dict(
        mean=sum(s) / len(s),
        p10=q(0.10),
        median=q(0.50),
        p90=q(0.90),
        p99=q(0.99),
        max=s[-1])


def _proc_cpu_seconds(pid: int) -> Optional[Tuple[int, float, float]]:
    """(parent pid, own CPU s, CPU s of reaped children) from /proc."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    tick = os.sysconf('SC_CLK_TCK')
    # after the command name: state, ppid, ..., utime (12th), stime,
    # cutime, cstime
    return (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick,
            (int(fields[13]) + int(fields[14])) / tick)


def _children_cpu_seconds() -> Optional[Dict[int, float]]:
    """CPU seconds of this process's children (the dataloader workers),
    keyed by pid, plus key -1: CPU of the children it has reaped (workers
    of earlier epochs without persistent workers). None without /proc."""
    me = os.getpid()
    own = _proc_cpu_seconds(me)
    if own is None:
        return None
    result = {-1: own[2]}
    for name in os.listdir('/proc'):
        if name.isdigit() and int(name) != me:
            stat = _proc_cpu_seconds(int(name))
            if stat is not None and stat[0] == me:
                result[int(name)] = stat[1]
    return result


def _batch_images(data_batch: DATA_BATCH) -> int:
    """Number of samples in a collated batch."""
    if isinstance(data_batch, dict):
        if data_batch.get('data_samples') is not None:
            return len(data_batch['data_samples'])
        data_batch = data_batch.get('inputs')
    if isinstance(data_batch, dict):  # inputs keyed by modality
        data_batch = next(iter(data_batch.values()))
    if isinstance(data_batch, torch.Tensor):
        return data_batch.shape[0]
    return len(data_batch)


def _raw_input_hw(data_batch: DATA_BATCH) -> Optional[Tuple[int, int]]:
    """(H, W) of the first image of a collated batch."""
    x = data_batch.get('inputs') if isinstance(data_batch,
                                               dict) else data_batch
    while isinstance(x, (dict, list, tuple)) and len(x):
        x = next(iter(x.values())) if isinstance(x, dict) else x[0]
    if isinstance(x, torch.Tensor) and x.dim() >= 3:  # (C, H, W) images
        return tuple(x.shape[-2:])
    return None


def _compile_cache_counters() -> Dict[str, int]:
    """Hits and misses of inductor's and AOTAutograd's on-disk caches so
    far in this process (``torch._dynamo.utils.counters``): whether the
    compilations of a run were loaded or made; and, with CUDA graphs
    (``mode='reduce-overhead'``), how many compiled graphs ran without
    them (``inductor.cudagraph_skips``; the reasons are in the log with
    ``TORCH_LOGS=perf_hints``)."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:  # pragma: no cover
        return {}
    return {
        f'{group}.{key}': int(value)
        for group in ('inductor', 'aot_autograd')
        for key, value in sorted(counters[group].items())
        if 'cache' in key or 'cudagraph' in key
    }


def _event_records(events: list) -> List[dict]:
    """Compile events as JSON records."""
    return [
        dict(
            kind=e.kind,
            compile_id=e.compile_id,
            module=e.module,
            input_shapes=[list(s) for s in e.input_shapes],
            seconds=e.seconds) for e in events
    ]


class _GPUBusySampler(threading.Thread):
    """Samples NVML's GPU utilisation (percent of time a kernel ran) in
    the background."""

    def __init__(self, device: torch.device, interval: float) -> None:
        super().__init__(daemon=True)
        self.device = device
        self.interval = interval
        self.samples: List[int] = []
        self.error: Optional[str] = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append(torch.cuda.utilization(self.device))
            except Exception as e:  # no NVML bindings, no driver access
                self.error = f'{type(e).__name__}: {e}'
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


class _GCTimer:
    """Times the collections of Python's garbage collector (``gc.callbacks``)
    while it is started: a full (generation 2) collection in a process
    holding many objects (compiled graphs, recorded CUDA graphs) stalls the
    training loop for as long as it runs."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._t0: Optional[float] = None

    def __call__(self, phase: str, info: dict) -> None:
        if phase == 'start':
            self._t0 = time.perf_counter()
        elif self._t0 is not None:
            generation = info['generation']
            self.counts[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._t0
            self._t0 = None

    def total(self) -> float:
        """Seconds spent collecting since the start."""
        return sum(self.seconds)

    def start(self) -> None:
        gc.callbacks.append(self)

    def stop(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)

    def summary(self) -> dict:
        return {
            f'gen{g}': dict(count=self.counts[g], seconds=self.seconds[g])
            for g in range(3)
        }


@HOOKS.register_module()
class TrainSpeedMonitorHook(Hook):
    """Measures the steady-state speed of a training run after a warm-up.

    The hook watches the real training loop (the config's dataloader with
    its workers, hooks, optimizer wrapper and AMP) and reports:

    - wall-clock images/s over a window of ``window_iters`` iterations,
      the fraction of it spent waiting for data (the time between the end
      of one iteration and the start of the next, as ``data_time`` of
      mmengine's ``IterTimerHook``), the distribution of iteration times,
      the peak GPU memory (allocated and reserved by PyTorch's caching
      allocator), the GPU busy time (NVML utilisation sampled in a
      thread; None without NVML or GPU), the CPU time the dataloader
      workers spent per sample (from ``/proc``) and the time the main
      process spent in Python's garbage collector, per generation and per
      iteration;
    - one-time costs outside the window: the dataloader start (iterator
      creation, worker start and first batch), the compilations (from
      :class:`~mmfusion.engine.CompileLog`, with their seconds) and the
      first iteration at each input size (cuDNN's autotuner, with
      ``cudnn_benchmark``, tunes the convolutions of every new shape).

    The window starts after a warm-up that (i) has trained at every size
    of the model's multi-scale batch resizers (``cycle_sizes``: one
    iteration at each size in turn, instead of a random size every
    ``interval`` iterations; after the warm-up the config's random sizes
    resume) and (ii) has run ``drain_iters`` iterations (at least one)
    since its last one-time stall (the run's first iteration, an iteration
    with a compilation or at a new size): while the loop stalls the workers
    fill their prefetch queue, and the iterations that consume it would
    otherwise look faster than the steady state. Compilations that still
    happen in the window are reported with it.

    The results are logged and written as JSON (by the main process); the
    run stops at the end of the epoch in which the window ends
    (``stop_after_window``). Only iterations of the window are measured;
    their data wait includes the epoch boundaries inside it. With
    ``time_limit_s`` the window ends early once the run has taken that
    long (reported with ``complete=False``), so that a benchmark with a
    time budget still gets its figures.

    Args:
        window_iters (int): Iterations measured. Defaults to 200.
        warmup_iters (int): Least number of warm-up iterations.
            Defaults to 10.
        drain_iters (int, optional): Iterations after the last stall
            before the window starts (at least 1). Defaults to None: the
            dataloader's ``num_workers * prefetch_factor``.
        cycle_sizes (bool | int): Train the first warm-up iterations at
            each multi-scale size in turn, or, as an int, that many passes
            over the sizes (CUDA graphs, ``mode='reduce-overhead'``: a
            graph per size is run once eagerly, recorded at its second
            call and replayed from the third, so 3); the iterations of all
            passes but the last count as stalls. Defaults to True: one
            pass.
        stop_after_window (bool): Stop training at the end of the epoch in
            which the window ends. Defaults to True.
        out_file (str, optional): JSON file of the results, relative to
            the work directory unless absolute. None writes none.
            Defaults to ``'train_speed.json'``.
        gpu_sample_interval (float): Seconds between two GPU utilisation
            samples. Defaults to 0.1.
        time_limit_s (float, optional): End the window after the iteration
            at which the run (from ``before_run``) has taken this many
            seconds. Defaults to None: no limit.
        profile_iters (int): Iterations traced with ``torch.profiler``
            (host and CUDA activity) after the window, within the epoch in
            which it ends; their Chrome trace (``profile_trace.json.gz``)
            and a table of the operators' host and device time
            (``profile_ops.txt``) go to the work directory. Defaults to 0:
            none.
        priority (str | int): Hook priority. Defaults to ``'LOWEST'``: the
            iteration time includes every other hook's work.
    """

    def __init__(self,
                 window_iters: int = 200,
                 warmup_iters: int = 10,
                 drain_iters: Optional[int] = None,
                 cycle_sizes: Union[bool, int] = True,
                 stop_after_window: bool = True,
                 out_file: Optional[str] = 'train_speed.json',
                 gpu_sample_interval: float = 0.1,
                 time_limit_s: Optional[float] = None,
                 profile_iters: int = 0,
                 priority: Union[str, int] = 'LOWEST') -> None:
        if window_iters < 1:
            raise ValueError(f'window_iters must be >= 1, got {window_iters}')
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        if int(cycle_sizes) < 0:
            raise ValueError(f'cycle_sizes must be a bool or an int >= 0, '
                             f'got {cycle_sizes}')
        if drain_iters is not None and drain_iters < 0:
            raise ValueError(f'drain_iters must be >= 0, got {drain_iters}')
        if profile_iters < 0:
            raise ValueError(
                f'profile_iters must be >= 0, got {profile_iters}')
        self.window_iters = window_iters
        self.warmup_iters = warmup_iters
        self.drain_iters = drain_iters
        self.cycle_sizes = cycle_sizes
        self.stop_after_window = stop_after_window
        self.out_file = out_file
        self.gpu_sample_interval = gpu_sample_interval
        self.time_limit_s = time_limit_s
        self.profile_iters = profile_iters
        self.priority = priority
        self._profiler = None
        self._profiled = 0
        self.results: Optional[dict] = None

    # -- hook points --------------------------------------------------

    def before_run(self, runner) -> None:
        """Start the clocks and the compile log.

        Args:
            runner (Runner): The runner.
        """
        self._log = get_compile_log()
        self._log_start = len(self._log)
        self._t_run = time.perf_counter()

    def before_train(self, runner) -> None:
        """Find the multi-scale resizers and the prefetch depth.

        Args:
            runner (Runner): The runner.
        """
        self._t_train = time.perf_counter()
        model = unwrap_model(runner.model)
        self._resizers = multi_scale_resizers(
            getattr(model, 'data_preprocessor', None))
        # (H, W) of the batch entering the first resizer and leaving the
        # last one, seen in each forward: the aspect ratio of the sizes the
        # resizers draw, and the size the network trains at (augmentations
        # in the data preprocessor may change both)
        self._resizer_hw: Dict[str, Optional[Tuple[int, int]]] = dict(
            input=None, output=None)
        self._hook_handles = []
        if self._resizers:
            self._hook_handles = [
                self._resizers[0].register_forward_pre_hook(
                    lambda m, args: self._see_hw('input', args[0])),
                self._resizers[-1].register_forward_hook(
                    lambda m, args, out: self._see_hw('output', out[0]))
            ]
        self._device = next((p.device for p in model.parameters()),
                            torch.device('cpu'))
        loader = runner.train_loop.dataloader
        workers = loader.num_workers
        depth = workers * (loader.prefetch_factor or 0) if workers else 0
        self._drain = self.drain_iters if self.drain_iters is not None \
            else depth
        self._prefetch_depth = depth
        self._num_workers = workers
        self._phase = 'warmup'
        self._iters = 0  # iterations seen by the hook
        self._cycle: Optional[List[Tuple[int, int]]] = None
        self._num_sizes = 0
        self._cycle_stall = False  # an iteration of a pass but the last
        # first iteration at each size: (step seconds, compile seconds)
        self._seen_sizes: Dict[Tuple[int, int], Tuple[float, float]] = {}
        self._last_stall = -1
        self._t_after: Optional[float] = None
        self._epoch_start: Optional[float] = None
        self._dataloader_start_s: Optional[float] = None
        self._records: List[dict] = []
        self._window_start_log = None
        self._gc: Optional[_GCTimer] = None
        self.results = None

    def before_train_epoch(self, runner) -> None:
        """Note when the epoch (and its dataloader iterator) starts.

        Args:
            runner (Runner): The runner.
        """
        self._epoch_start = time.perf_counter()

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Time the wait for the batch; pick the warm-up size.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
        """
        now = time.perf_counter()
        first_of_epoch = self._epoch_start is not None
        since = self._epoch_start if first_of_epoch else self._t_after
        self._epoch_start = None
        wait = now - since if since is not None else 0.0
        if self._dataloader_start_s is None:
            self._dataloader_start_s = wait
        self._cycle_stall = False
        if self._phase == 'warmup' and self.cycle_sizes and self._resizers:
            self._set_warmup_size()
        self._resizer_hw['output'] = None
        self._t_before = now
        self._wait = wait
        self._compiles_before = len(self._log)
        self._gc_before = self._gc.total() if self._gc else 0.0

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Record the iteration; move from warm-up to window to done.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
            outputs (dict, optional): The losses.
        """
        now = time.perf_counter()
        self._size = self._resizer_hw['output'] or _raw_input_hw(data_batch)
        compiles = self._log.events(self._compiles_before)
        record = dict(
            data_s=self._wait,
            step_s=now - self._t_before,
            images=_batch_images(data_batch) * get_world_size(),
            size=list(self._size) if self._size else None,
            compile_s=sum(e.seconds for e in compiles),
            gc_s=self._gc.total() - self._gc_before if self._gc else 0.0)
        self._t_after = now
        index = self._iters
        self._iters += 1
        if self._phase == 'warmup':
            new_size = self._size is not None and \
                self._size not in self._seen_sizes
            if new_size:
                self._seen_sizes[self._size] = (record['step_s'],
                                                record['compile_s'])
            if index == 0 or compiles or new_size or self._cycle_stall:
                self._last_stall = index
            if self._warmup_done(index):
                self._start_window(runner)
                # the window's clock starts after the synchronisation
                self._t_after = self._t_window
        elif self._phase == 'window':
            self._records.append(record)
            if len(self._records) == self.window_iters:
                self._finish(runner, complete=True)
            elif self.time_limit_s is not None and \
                    now - self._t_run >= self.time_limit_s:
                self._finish(runner, complete=False)
        elif self._profiler is not None:
            self._profiled += 1
            if self._profiled == self.profile_iters:
                self._stop_profile(runner)

    def after_train(self, runner) -> None:
        """Report an unfinished window (training ended first).

        Args:
            runner (Runner): The runner.
        """
        for handle in self._hook_handles:
            handle.remove()
        if self._phase == 'window':
            # training is over: no iterations left to trace
            self._finish(runner, complete=False, trace=False)
        elif self._phase == 'warmup':
            runner.logger.warning(
                f'TrainSpeedMonitorHook: training ended after {self._iters} '
                'iterations, still in the warm-up; nothing was measured')
        if self._profiler is not None:  # fewer than profile_iters traced
            self._stop_profile(runner)

    # -- phases ---------------------------------------------------------

    def _warmup_done(self, index: int) -> bool:
        cycling = self.cycle_sizes and self._resizers
        cycled = not cycling or (self._cycle is not None and not self._cycle)
        # at least one iteration without a stall: compilations can come in
        # the second iteration too (e.g. once the optimizer has its state)
        return (index + 1 >= self.warmup_iters and cycled
                and index - self._last_stall >= max(self._drain, 1))

    def _set_warmup_size(self) -> None:
        """Resize this batch to the next size no warm-up batch had.

        The sizes keep the aspect ratio of the batches the resizers get
        (seen in their first forward): that of the raw batch on the CPU
        augmentation path, that of the augmented batch (e.g. 640 x 640
        from 640 x 360 frames) when augmentations run in the data
        preprocessor first. The first iteration therefore trains at the
        size its batch has.
        """
        if self._cycle is None:
            hw = self._resizer_hw['input']
            if hw is None:
                return
            aspect = hw[1] / hw[0]
            sizes: List[Tuple[int, int]] = []
            for resizer in self._resizers:
                sizes += [
                    s for s in multi_scale_sizes(resizer, aspect)
                    if s not in sizes
                ]
            self._num_sizes = len(sizes)
            self._cycle = sizes * int(self.cycle_sizes)
        if self._cycle:
            self._cycle_stall = len(self._cycle) > self._num_sizes
            size = self._cycle.pop(0)
            for resizer in self._resizers:
                resizer._input_size = size

    def _see_hw(self, key: str, inputs) -> None:
        """Note the (H, W) of a resizer's input or output batch."""
        if isinstance(inputs, dict):
            inputs = next(iter(inputs.values()))
        x = inputs
        if isinstance(x, torch.Tensor) and x.dim() == 4:
            self._resizer_hw[key] = tuple(int(v) for v in x.shape[-2:])

    def _synchronize(self) -> None:
        if self._device.type == 'cuda':
            torch.cuda.synchronize(self._device)

    def _start_window(self, runner) -> None:
        self._synchronize()
        self._warmup = dict(
            iters=self._iters,
            seconds=time.perf_counter() - self._t_train,
            last_stall_iter=self._last_stall,
            drain_iters=self._drain,
            prefetch_depth=self._prefetch_depth,
            sizes=[list(s) for s in self._seen_sizes])
        self._peak_before = None
        if self._device.type == 'cuda':
            self._peak_before = dict(
                allocated_gib=torch.cuda.max_memory_allocated(self._device) /
                GIB,
                reserved_gib=torch.cuda.max_memory_reserved(self._device) /
                GIB)
            torch.cuda.reset_peak_memory_stats(self._device)
        self._sampler = None
        if self._device.type == 'cuda':
            self._sampler = _GPUBusySampler(self._device,
                                            self.gpu_sample_interval)
            self._sampler.start()
        self._window_start_log = len(self._log)
        self._cpu_start = _children_cpu_seconds()
        self._main_cpu_start = time.process_time()
        self._gc = _GCTimer()
        self._gc.start()
        self._phase = 'window'
        runner.logger.info(
            f'TrainSpeedMonitorHook: warm-up done after {self._iters} '
            f'iterations ({self._warmup["seconds"]:.1f} s, sizes '
            f'{self._warmup["sizes"]}); measuring {self.window_iters} '
            'iterations')
        self._t_window = time.perf_counter()

    def _finish(self, runner, complete: bool, trace: bool = True) -> None:
        """Summarise the window, log it, write it and stop the run; start
        tracing the next ``profile_iters`` iterations with ``trace``."""
        self._synchronize()
        seconds = time.perf_counter() - self._t_window
        main_cpu = time.process_time() - self._main_cpu_start
        self._gc.stop()
        cpu_end = _children_cpu_seconds()
        images = sum(r['images'] for r in self._records)
        self.results = dict(
            complete=complete,
            world_size=get_world_size(),
            device=str(self._device),
            window=self._window_summary(seconds, main_cpu),
            warmup=self._warmup,
            one_time=self._one_time_summary(),
            memory=self._memory_summary(),
            gpu=self._gpu_summary(),
            workers=self._workers_summary(cpu_end, seconds, images))
        self._phase = 'done'
        w = self.results['window']
        runner.logger.info(
            f'TrainSpeedMonitorHook: {w["iters"]} iterations, '
            f'{w["images"]} images in {seconds:.1f} s: '
            f'{w["images_per_s"]:.1f} images/s, waiting for data '
            f'{100 * w["data_wait_fraction"]:.1f} % of the time, '
            f'median iteration {w["iter_s"].get("median", 0):.3f} s' +
            ('' if complete else
             f' (cut short: {self.window_iters} were asked for)'))
        if self.out_file and is_main_process():
            path = self.out_file if osp.isabs(self.out_file) else osp.join(
                runner.work_dir, self.out_file)
            with open(path, 'w') as f:
                json.dump(self.results, f, indent=2)
        if self.stop_after_window:
            runner.train_loop.stop_training = True
        if self.profile_iters and trace:
            self._start_profile()

    def _start_profile(self) -> None:
        """Trace the next ``profile_iters`` iterations."""
        from torch.profiler import ProfilerActivity, profile
        activities = [ProfilerActivity.CPU]
        if self._device.type == 'cuda':
            activities.append(ProfilerActivity.CUDA)
        self._profiler = profile(activities=activities)
        self._profiler.__enter__()

    def _stop_profile(self, runner) -> None:
        """Write the trace and the operator table of the profiled
        iterations."""
        self._synchronize()
        profiler, self._profiler = self._profiler, None
        profiler.__exit__(None, None, None)
        if not is_main_process():
            return
        trace = osp.join(runner.work_dir, 'profile_trace.json')
        profiler.export_chrome_trace(trace)
        with open(trace, 'rb') as src, gzip.open(trace + '.gz', 'wb') as dst:
            shutil.copyfileobj(src, dst)
        os.remove(trace)
        averages = profiler.key_averages()
        sort_keys = ['self_cpu_time_total']
        if self._device.type == 'cuda':
            sort_keys.append('self_device_time_total')
        with open(osp.join(runner.work_dir, 'profile_ops.txt'), 'w') as f:
            f.write(f'{self._profiled} iterations\n')
            for key in sort_keys:
                f.write(f'\nsorted by {key}\n')
                f.write(averages.table(sort_by=key, row_limit=60))
        runner.logger.info(
            f'TrainSpeedMonitorHook: traced {self._profiled} iterations '
            f'into {trace}.gz')

    def _window_summary(self, seconds: float, main_cpu: float) -> dict:
        """Images/s, data wait and iteration times of the window."""
        records = self._records
        images = sum(r['images'] for r in records)
        data_s = sum(r['data_s'] for r in records)
        steps = [r['data_s'] + r['step_s'] for r in records]
        window_events = self._log.events(self._window_start_log)
        sizes: Dict[str, int] = {}
        for r in records:
            key = 'x'.join(map(str, r['size'])) if r['size'] else '?'
            sizes[key] = sizes.get(key, 0) + 1
        return dict(
            iters=len(records),
            requested_iters=self.window_iters,
            images=images,
            seconds=seconds,
            images_per_s=images / seconds if seconds > 0 else None,
            data_wait_s=data_s,
            data_wait_fraction=data_s / seconds if seconds > 0 else None,
            other_s=seconds - sum(steps),
            iter_s=_percentiles(steps),
            step_s=_percentiles([r['step_s'] for r in records]),
            data_s=_percentiles([r['data_s'] for r in records]),
            sizes=sizes,
            compiles=len(window_events),
            compile_s=sum(e.seconds for e in window_events),
            compile_events=_event_records(window_events),
            main_process_cpu_s_per_iter=main_cpu /
            len(records) if records else None,
            iter_times=[round(t, 5) for t in steps],
            data_times=[round(r['data_s'], 5) for r in records],
            gc=self._gc.summary(),
            gc_times=[round(r['gc_s'], 5) for r in records])

    def _one_time_summary(self) -> dict:
        """Set-up, compilations and new-size stalls before the window."""
        warmup_events = self._log.events(
            self._log_start)[:self._window_start_log - self._log_start]
        steady = _percentiles([r['step_s']
                               for r in self._records]).get('median', 0.0)
        first_at_size = {
            'x'.join(map(str, s)): t
            for s, (t, _) in self._seen_sizes.items()
        }
        # the first step at a size beyond the steady median, less the
        # compilations in it: mostly cuDNN's autotuning of its shapes
        size_stall = sum(
            max(0.0, t - c - steady) for t, c in self._seen_sizes.values())
        return dict(
            compile_cache=_compile_cache_counters(),
            setup_s=self._t_train - self._t_run,
            dataloader_start_s=self._dataloader_start_s,
            compiles=len(warmup_events),
            compile_s=sum(e.seconds for e in warmup_events),
            compile_events=_event_records(warmup_events),
            first_step_at_size_s=first_at_size,
            new_size_stall_s=size_stall)

    def _memory_summary(self) -> Optional[dict]:
        """Peak device memory of the run and of the warm-up (CUDA only)."""
        if self._device.type != 'cuda':
            return None
        return dict(
            peak_allocated_gib=torch.cuda.max_memory_allocated(self._device) /
            GIB,
            peak_reserved_gib=torch.cuda.max_memory_reserved(self._device) /
            GIB,
            warmup_peak_allocated_gib=self._peak_before['allocated_gib'],
            warmup_peak_reserved_gib=self._peak_before['reserved_gib'])

    def _gpu_summary(self) -> Optional[dict]:
        """Mean NVML utilisation over the window (None without a sampler)."""
        if self._sampler is None:
            return None
        self._sampler.stop()
        samples = self._sampler.samples
        return dict(
            busy_percent=sum(samples) / len(samples) if samples else None,
            samples=len(samples),
            error=self._sampler.error)

    def _workers_summary(self, cpu_end: Optional[dict], seconds: float,
                         images: int) -> Optional[dict]:
        """CPU time of the dataloader workers over the window."""
        if self._cpu_start is None or cpu_end is None:
            return None
        cpu = sum(cpu_end[p] - self._cpu_start.get(p, 0.0) for p in cpu_end)
        return dict(
            num_workers=self._num_workers,
            cpu_s=cpu,
            cpu_ms_per_sample=1000 * cpu / images if images else None,
            busy_fraction=cpu /
            (seconds * self._num_workers) if self._num_workers else None)
