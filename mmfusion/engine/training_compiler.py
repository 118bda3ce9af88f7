"""``torch.compile`` of the training forward of submodules."""
import functools
import logging
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .compile_log import get_compile_log, tensor_shapes

SHAPES = ('dynamic', 'static')
# What changes a compiled function's guards besides the input size: the
# full batch and the smaller last batch of an epoch, in each of the two
# stages of a freeze schedule (requires_grad, batch size and train / eval
# mode of the frozen modules switch once).
GUARD_VARIANTS = 4

# dynamo's setting names (torch 2.11 and 2.13 use the first of each pair)
_LIMIT_NAMES = dict(
    recompile_limit=('recompile_limit', 'cache_size_limit'),
    accumulated_recompile_limit=('accumulated_recompile_limit',
                                 'accumulated_cache_size_limit'),
    fail_on_recompile_limit_hit=('fail_on_recompile_limit_hit',
                                 'fail_on_cache_limit_hit'))


def _torch_version() -> Tuple[int, int]:
    major, minor = torch.__version__.split('+')[0].split('.')[:2]
    return int(major), int(minor)


@functools.lru_cache()
def _dynamo_setting(name: str) -> str:
    """dynamo's name for one of the settings in ``_LIMIT_NAMES``."""
    for candidate in _LIMIT_NAMES[name]:
        if hasattr(torch._dynamo.config, candidate):
            return candidate
    raise RuntimeError(f'torch {torch.__version__} has no dynamo setting '
                       f'{" or ".join(_LIMIT_NAMES[name])}; TrainingCompiler '
                       'cannot bound its recompilations')


def _limit_errors() -> tuple:
    import torch._dynamo.exc as exc
    return tuple(
        getattr(exc, name)
        for name in ('FailOnRecompileLimitHit', 'FailOnCacheLimitHit')
        if hasattr(exc, name))


class TrainingCompiler:
    """Compiles the training forward of submodules, lazily and outside the
    module tree.

    The model calls a submodule in training through :meth:`run` instead of
    directly; the first call compiles it (``torch.compile`` of the module,
    kept in this object), later calls reuse the compiled function. The
    compiled functions are not submodules: parameter names,
    ``state_dict`` keys and checkpoints stay those of the eager model, and
    a copy (``copy.deepcopy``, e.g. the averaged model of ``EMAHook``) or
    a pickle of the model gets an empty compiler with the same settings.
    Validation, prediction and export call the modules directly and stay
    eager, so they add no compilation.

    Shapes (``shapes``):

    - ``'dynamic'``: height and width of every 4-D tensor argument
      (N, C, H, W) are marked dynamic, so one compilation serves every
      multi-scale size; a change of batch size makes dynamo recompile once
      with a dynamic batch dimension. Kernels are generic in H and W.
    - ``'static'``: ``dynamic=False``, one compilation per input shape
      (each multi-scale size, each batch size), kernels specialised to it.

    Dynamic is the default: YOLOX's multi-scale training uses 11 sizes, so
    static shapes cost 11 first-batch compilations (and more when the
    last, smaller batch of an epoch or a freeze switch changes the
    shapes), each as long as the first, which short runs and benchmarks
    cannot amortise. What dynamic shapes give up is specialisation of the
    fused element-wise kernels (the convolutions are cuDNN's either way,
    tuned per shape by its autotuner); those kernels are memory-bound, so
    the loss should be small, but only a GPU measurement of both can tell
    (``tools/analysis_tools/gpu_e2e_job.sh`` runs both).

    Divisible sizes (``divisible_sizes``, on by default with dynamic
    shapes): the model tells :meth:`run` what H and W of a module's inputs
    are always multiples of (``size_divisor``, e.g. 32 for the YOLOX
    images), and the module is compiled on views (N, C, H / d, d, W / d,
    d) of its inputs (:func:`fold_sizes`) whose H / d and W / d are the
    dynamic dimensions.
    Without it dynamo's size symbol is H itself and every stride-2
    convolution, the Focus slicing and the pooling add a floor division,
    so the sizes deep in the backbone are nests of them
    (``((((H - 1) // 2 + 1) - 1) // 2 + 1) ...``) that sympy simplifies
    and compares over and over while inductor lowers, schedules and
    indexes every kernel; with it they are multiples of the symbol
    (``16*s0``, ``8*s0``, ..., ``s0``). ShapeEnv honours
    ``torch._check(h % 32 == 0)`` only for the floor division of H itself
    by a divisor of 32, not for those nests, so the hint has to be in the
    shapes. Measured on a 2-core CPU with inductor (torch 2.13, YOLOX-s
    CSPDarknet, forward and backward, one size): 112 s per compilation
    with the hint, 184 s without it, about as long as the 108 s of a
    static-shape compilation. A module whose inputs are the features of
    several levels gains nothing (YOLOX's PAFPN: 75 s with the hint, 70 s
    without): the sizes that its upsampling and concatenations relate
    are already replaced by one symbol. The computation is the same
    (outputs and gradients equal the eager module's; the tests compare
    them).
    On the GPU machine (H200, torch 2.11, the dual YOLOX-s at batch 64
    through ``tools/train.py``) the forward of a backbone compiled in
    76 s with the hint against 218-234 s without, and the whole run was
    training after about 4 minutes instead of none in 7
    (``docs/benchmarks.md``, end to end).
    ``tools/analysis_tools/benchmark_compile.py`` measures the modes on a
    GPU. An H or W of exactly ``d`` (H / d = 1) is specialised by dynamo
    like any size 1, so it compiles once more.

    Recompilations are bounded: while a compiled function runs, dynamo's
    recompile limit is ``recompile_limit`` and hitting it raises an error
    (dynamo's default is to fall back to eager silently). Every
    compilation is logged through mmengine's logger with the module, its
    input shapes and its duration (:class:`~mmfusion.engine.CompileLog`).
    With dynamic shapes a backend can still specialise a size (a guard on
    it, e.g. inductor's CPU lowering of channels-last strides in torch
    2.13), and then each size compiles once as with ``'static'``; the
    default limit allows that, and the first such recompilation of a
    module is logged as a warning.

    Args:
        shapes (str): ``'dynamic'`` or ``'static'``. Defaults to
            ``'dynamic'``.
        num_input_sizes (int): Distinct input sizes (H, W) the model is
            trained at, e.g. the multi-scale sizes. Defaults to 1.
        recompile_limit (int, optional): Compilations allowed per compiled
            function (dynamo counts per code object, so modules of one
            class share them). Defaults to None: ``4 x num_input_sizes``
            times the number of compiled modules that share the code; 4
            covers the full and the last, smaller batch of an epoch in each
            stage of a freeze schedule. Dynamic shapes normally need 1 to 4
            of them.
        backend (str): ``torch.compile`` backend. Defaults to
            ``'inductor'``.
        mode (str, optional): ``torch.compile`` mode, e.g.
            ``'max-autotune'``. Defaults to None.
        options (dict, optional): Backend options (inductor settings, e.g.
            ``{'triton.coalesce_tiling_analysis': False}``). Defaults to
            None.
        fullgraph (bool): Forbid graph breaks. Defaults to False.
        divisible_sizes (bool): With dynamic shapes, tell dynamo what the
            inputs' H and W are multiples of (``size_divisor`` of
            :meth:`run`). Defaults to True.
    """

    def __init__(self,
                 shapes: str = 'dynamic',
                 num_input_sizes: int = 1,
                 recompile_limit: Optional[int] = None,
                 backend: str = 'inductor',
                 mode: Optional[str] = None,
                 options: Optional[dict] = None,
                 fullgraph: bool = False,
                 divisible_sizes: bool = True) -> None:
        if shapes not in SHAPES:
            raise ValueError(f'shapes must be one of {SHAPES}, got '
                             f'{shapes!r}')
        if num_input_sizes < 1:
            raise ValueError(
                f'num_input_sizes must be >= 1, got {num_input_sizes}')
        if recompile_limit is not None and recompile_limit < 1:
            raise ValueError(
                f'recompile_limit must be >= 1, got {recompile_limit}')
        self._settings = dict(
            shapes=shapes,
            num_input_sizes=num_input_sizes,
            recompile_limit=recompile_limit,
            backend=backend,
            mode=mode,
            options=dict(options) if options else None,
            fullgraph=fullgraph,
            divisible_sizes=divisible_sizes)
        self.shapes = shapes
        self.num_input_sizes = num_input_sizes
        self.backend = backend
        self.mode = mode
        self.options = dict(options) if options else {}
        self.fullgraph = fullgraph
        self.divisible_sizes = divisible_sizes
        self._recompile_limit = recompile_limit
        self._compiled: Dict[str, nn.Module] = {}
        self._code_users: Dict[object, set] = {}
        self._compiled_shapes: Dict[str, list] = {}
        self._warned: set = set()

    # Copies and pickles start without compiled functions.
    def __getstate__(self) -> dict:
        return dict(self._settings)

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self._settings.items())
        return f'{type(self).__name__}({args})'

    @property
    def uses_cuda_graphs(self) -> bool:
        """bool: Whether the compiled functions run as CUDA graphs: the
        ``triton.cudagraphs`` setting of inductor's mode (as
        ``torch._inductor.list_mode_options`` lists it, e.g. on for
        ``'reduce-overhead'``), unless the options set it."""
        if self.backend != 'inductor':
            return False
        from torch._inductor import list_mode_options
        settings = {
            **(list_mode_options(self.mode) if self.mode else {}),
            **self.options
        }
        return bool(settings.get('triton.cudagraphs', False))

    def begin_step(self) -> None:
        """Mark the start of a training iteration (call it before the first
        compiled function of each iteration).

        With CUDA graphs, inductor's graph trees reuse the memory of one
        iteration's outputs in the next and need to know where an
        iteration starts; without the mark they infer it from the
        pending backward passes. Nothing to do without CUDA graphs.
        """
        if self._compiled and self.uses_cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()

    @property
    def compiled_modules(self) -> Tuple[str, ...]:
        """tuple[str]: Names of the modules compiled so far."""
        return tuple(self._compiled)

    @property
    def recompile_limit(self) -> int:
        """int: Compilations allowed per compiled function."""
        if self._recompile_limit is not None:
            return self._recompile_limit
        sharing = max((len(v) for v in self._code_users.values()), default=1)
        return GUARD_VARIANTS * self.num_input_sizes * sharing

    def run(self,
            name: str,
            module: nn.Module,
            *args,
            size_divisor: int = 1) -> Any:
        """Call ``module(*args)`` through its compiled function.

        Args:
            name (str): The module's name in the model, for the log and
                the errors (e.g. ``'backbones.rgb'``).
            module (nn.Module): The module.
            *args: Its arguments; 4-D tensors (N, C, H, W), also inside
                lists and tuples, get dynamic H and W with
                ``shapes='dynamic'``.
            size_divisor (int): What H and W of the 4-D arguments are
                always multiples of (e.g. 32 for images that the
                multi-scale resizer and the padding make multiples of 32),
                passed to dynamo with ``divisible_sizes``. The same for
                every call of a module. Defaults to 1.

        Returns:
            The module's output.
        """
        fold = self._hints_divisibility() and size_divisor > 1
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compile(name, module, args, fold)
        inputs = fold_sizes(args, size_divisor, name) if fold else args
        if self.shapes == 'dynamic':
            _mark_hw_dynamic(inputs)
        log = get_compile_log()
        num_events = len(log)
        with torch._dynamo.config.patch(self._limits()), \
                log.attribute(name, args):
            try:
                out = compiled(*inputs)
            except _limit_errors() as e:
                raise RuntimeError(
                    f'TrainingCompiler: compiling {name} '
                    f'({type(module).__name__}) for inputs '
                    f'{list(tensor_shapes(args))} would exceed its '
                    f'recompile limit of {self.recompile_limit} '
                    f'(shapes={self.shapes!r}, {self.num_input_sizes} input '
                    'sizes); the log above lists the compilations so far. '
                    'Raise compile_network.recompile_limit if these shapes '
                    "are expected, or use shapes='dynamic'") from e
        if len(log) != num_events and self.shapes == 'dynamic':
            self._check_specialised(name, log.events(num_events))
        return out

    def _limits(self) -> dict:
        """dynamo settings while a compiled function runs: the recompile
        limit per function and in all, and an error when it is hit."""
        limit = self.recompile_limit
        total = _dynamo_setting('accumulated_recompile_limit')
        limits = {
            total:
            max(limit * len(self._compiled),
                getattr(torch._dynamo.config, total))
        }
        limits[_dynamo_setting('recompile_limit')] = limit
        limits[_dynamo_setting('fail_on_recompile_limit_hit')] = True
        return limits

    def _check_specialised(self, name: str, events: list) -> None:
        """Warn once per module when a dynamic-shape compilation was
        repeated for inputs that differ only in height and width."""
        shapes = self._compiled_shapes.setdefault(name, [])
        for event in events:
            if event.kind != 'dynamo' or event.module != name:
                continue
            # (N, C) of every input: the same, while (H, W) differ
            key = [s[:2] for s in event.input_shapes]
            earlier = [[s[:2] for s in old] for old in shapes
                       if old != event.input_shapes]
            resized = key in earlier
            if resized and name not in self._warned:
                self._warned.add(name)
                print_log(
                    f'TrainingCompiler: {name} was compiled again for '
                    f'inputs {list(event.input_shapes)} that differ from '
                    'an earlier compilation only in height / width: the '
                    'backend probably specialised the dynamic sizes, and '
                    "then each size compiles once (as with shapes='static',"
                    ' which gives kernels specialised to each size)',
                    logger='current',
                    level=logging.WARNING)
            shapes.append(event.input_shapes)

    def _hints_divisibility(self) -> bool:
        return self.shapes == 'dynamic' and self.divisible_sizes

    def _compile(self, name: str, module: nn.Module, args: tuple,
                 fold: bool) -> nn.Module:
        """Create the compiled function of a module (no tracing yet); with
        ``fold``, of the module called on the inputs of
        :func:`fold_sizes`."""
        if fold:
            # the compiled frame is the unfolding wrapper's, one code object
            # for every module compiled with a divisor
            module = _UnfoldSizes(module)
            code = _UnfoldSizes.forward.__code__
        else:
            code = type(module).forward.__code__
        self._code_users.setdefault(code, set()).add(name)
        options = dict(self.options)
        if self.shapes == 'dynamic' and self.backend == 'inductor':
            for key, value in dynamic_shape_workarounds(
                    _on_cuda(module, args), _torch_version()).items():
                options.setdefault(key, value)
        mode = self.mode
        if mode is not None and options:
            # torch.compile takes a mode or options, not both
            from torch._inductor import list_mode_options
            options = {
                **list_mode_options(mode, self.shapes == 'dynamic'),
                **options
            }
            mode = None
        compiled = torch.compile(
            module,
            backend=self.backend,
            mode=mode,
            dynamic=False if self.shapes == 'static' else None,
            fullgraph=self.fullgraph,
            options=options or None)
        self._compiled[name] = compiled
        return compiled


def dynamic_shape_workarounds(on_cuda: bool,
                              version: Tuple[int, int]) -> Dict[str, Any]:
    """Inductor settings that dynamic-shape compilations of these networks
    need with a given torch version.

    Inductor's coalesced-tiling analysis (documented in its config as not
    applying to dynamic shapes yet) asserts in
    ``tiling_utils.get_pw_red_splits`` on some dynamic-shape graphs of the
    FRED detectors: pytorch/pytorch#181563, fixed by #181793 (present in
    torch 2.13, missing in 2.11, where the first multi-scale size change
    of a compiled run crashed). The analysis only chooses Triton tilings,
    so CPU kernels do not need the workaround.

    Args:
        on_cuda (bool): Whether the compiled module runs on a GPU.
        version (tuple[int, int]): torch's (major, minor) version.

    Returns:
        dict: Inductor options, e.g.
        ``{'triton.coalesce_tiling_analysis': False}``; empty if none.
    """
    if on_cuda and version < (2, 13):
        return {'triton.coalesce_tiling_analysis': False}
    return {}


def _on_cuda(module: nn.Module, args: tuple) -> bool:
    """Whether the module's weights or its first input are on a GPU."""
    first = (next(module.parameters(), None), next(_tensors(args), None))
    return any(t is not None and t.is_cuda for t in first)


def _tensors(x):
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _tensors(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _tensors(v)


def fold_sizes(args: Any, divisor: int, name: str) -> Any:
    """Views of the 4-D tensors in ``args`` with H and W split by a
    divisor: (N, C, H, W) -> (N, C, H / d, d, W / d, d).

    Marked dynamic, the dimensions H / d and W / d become dynamo's size
    symbols, so every size it derives from H and W (strided convolutions,
    slicing, pooling, upsampling) is a multiple of a symbol instead of a
    nest of floor divisions. :class:`_UnfoldSizes` undoes the split inside
    the compiled function.

    Args:
        args: Arguments; 4-D tensors also inside lists and tuples.
        divisor (int): What their H and W are multiples of.
        name (str): Module name, for the error.

    Returns:
        The arguments with the 4-D tensors replaced by 6-D views.
    """
    if isinstance(args, (list, tuple)):
        return type(args)(fold_sizes(a, divisor, name) for a in args)
    if not isinstance(args, torch.Tensor) or args.dim() != 4:
        return args
    n, c, h, w = args.shape
    if h % divisor or w % divisor:
        raise ValueError(
            f'TrainingCompiler: {name} got an input of shape '
            f'{tuple(args.shape)} whose height and width are not multiples '
            f'of {divisor}, which it was told they are; pad the inputs to a '
            "multiple of it (e.g. the Pad transform's size_divisor) or set "
            'compile_network.divisible_sizes=False')
    x = args.unflatten(3, (w // divisor, divisor))
    return x.unflatten(2, (h // divisor, divisor))


def _unfold_sizes(args: Any) -> Any:
    """The inverse of :func:`fold_sizes`: 6-D views back to (N, C, H, W)."""
    if isinstance(args, torch.Tensor):
        return args.flatten(4, 5).flatten(2, 3) if args.dim() == 6 else args
    if isinstance(args, (list, tuple)):
        return type(args)(_unfold_sizes(a) for a in args)
    return args


class _UnfoldSizes(nn.Module):
    """Calls a module with the inputs that :func:`fold_sizes` split, put
    back together: the function compiled with a size divisor. Every 6-D
    tensor argument is taken for a split one (the modules compiled here
    take tensors of at most 4 dimensions)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args) -> Any:
        return self.module(*_unfold_sizes(args))


def _mark_hw_dynamic(args: tuple) -> None:
    """Mark H and W of the 4-D tensors (N, C, H, W) and H / d and W / d of
    the 6-D ones of :func:`fold_sizes` dynamic."""
    for t in _tensors(args):
        if t.dim() in (4, 6):
            for dim in ((2, 3) if t.dim() == 4 else (2, 4)):
                torch._dynamo.maybe_mark_dynamic(t, dim)
