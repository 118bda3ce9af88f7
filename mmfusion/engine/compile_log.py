"""A process-wide record of every ``torch.compile`` compilation."""
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.logging import print_log

Shapes = Tuple[Tuple[int, ...], ...]


@dataclass
class CompileEvent:
    """One compilation that dynamo reported.

    Args:
        kind (str): ``'dynamo'`` (a frame traced and compiled: forward and,
            unless deferred, backward), ``'lazy_backward'`` (a backward
            graph compiled at its first use) or another trigger of
            ``torch._dynamo.callback.CallbackTrigger`` in lower case.
        compile_id (str): Dynamo's id, ``'frame/recompile'`` (e.g.
            ``'0/1'``: the second compilation of frame 0).
        module (str, optional): Name of the module whose compiled call
            triggered it (see :meth:`CompileLog.attribute`), None if the
            compilation came from elsewhere.
        input_shapes (tuple): Shapes of the tensor inputs of that call.
        start (float): ``time.perf_counter()`` at the start.
        seconds (float): Duration.
    """
    kind: str
    compile_id: str
    module: Optional[str]
    input_shapes: Shapes
    start: float
    seconds: float


class CompileLog:
    """Records (and logs through mmengine's logger) every compilation.

    The log listens to dynamo's compile start / end callbacks, so it sees
    every compilation in the process: the ones of
    :class:`~mmfusion.engine.TrainingCompiler`, which names the module and
    input shapes of the call that caused it (:meth:`attribute`), and any
    other (e.g. mmengine's ``compile=True``), recorded with its compile id
    only. Backward graphs that are compiled at their first use are
    attributed to the module of their forward compilation. Use the shared
    instance, :func:`get_compile_log`.
    """

    def __init__(self) -> None:
        self._events: List[CompileEvent] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._starts: Dict[Tuple[str, str], float] = {}
        self._owners: Dict[str, Tuple[Optional[str], Shapes]] = {}

    def install(self) -> None:
        """Register the callbacks with dynamo, unless they are (again:
        ``torch._dynamo.reset()`` removes every callback)."""
        from torch._dynamo.callback import callback_handler
        if self._on_start not in callback_handler.start_callbacks:
            callback_handler.register_start_callback(self._on_start)
        if self._on_end not in callback_handler.end_callbacks:
            callback_handler.register_end_callback(self._on_end)

    @contextmanager
    def attribute(self, module: str, inputs: Sequence) -> Iterator[None]:
        """Attribute compilations inside the block to ``module``.

        Args:
            module (str): Module name, e.g. ``'backbones.rgb'``.
            inputs (Sequence): The call's arguments; the shapes of the
                tensors in them (nested in lists, tuples or dicts) are
                recorded.
        """
        previous = getattr(self._local, 'owner', None)
        self._local.owner = (module, tensor_shapes(inputs))
        try:
            yield
        finally:
            self._local.owner = previous

    def events(self, start: int = 0) -> List[CompileEvent]:
        """Events recorded so far, from index ``start`` on."""
        with self._lock:
            return list(self._events[start:])

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    # -- dynamo callbacks ----------------------------------------------

    @staticmethod
    def _key(args) -> Tuple[str, str]:
        trigger = getattr(args, 'callback_trigger', None)
        kind = 'dynamo' if trigger is None else trigger.name.lower()
        return kind, str(getattr(args, 'compile_id', None))

    def _on_start(self, args=None) -> None:
        with self._lock:
            self._starts[self._key(args)] = time.perf_counter()

    def _on_end(self, args=None) -> None:
        end = time.perf_counter()
        kind, compile_id = key = self._key(args)
        with self._lock:
            start = self._starts.pop(key, end)
            if kind == 'dynamo':
                owner = getattr(self._local, 'owner', None) or (None, ())
                module, shapes = self._owners[compile_id] = owner
            else:
                module, shapes = self._owners.get(compile_id, (None, ()))
            event = CompileEvent(kind, compile_id, module, shapes, start,
                                 end - start)
            self._events.append(event)
            count = sum(1 for e in self._events
                        if e.module == module and e.kind == kind)
        what = {
            'dynamo': '',
            'lazy_backward': 'the backward of '
        }.get(kind, f'{kind} of ')
        if module is None:
            text = f'{what}a function compiled'
        else:
            text = (f'{what}{module} compiled (its compilation {count}) for '
                    f'inputs {list(shapes)}')
        print_log(
            f'torch.compile [{compile_id}]: {text} in {event.seconds:.2f} s',
            logger='current')


def tensor_shapes(inputs: object) -> Shapes:
    """Shapes of the tensors in (nested lists, tuples, dicts of) inputs."""
    shapes: list = []

    def visit(x) -> None:
        if hasattr(x, 'shape') and hasattr(x, 'dtype'):
            shapes.append(tuple(x.shape))
        elif isinstance(x, dict):
            for v in x.values():
                visit(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                visit(v)

    visit(inputs)
    return tuple(shapes)


_COMPILE_LOG = CompileLog()


def get_compile_log() -> CompileLog:
    """The process-wide :class:`CompileLog`, listening from now on."""
    _COMPILE_LOG.install()
    return _COMPILE_LOG
