"""Find the operations that make the host wait for the device.

On a GPU, reading a tensor's value on the host (``loss.item()``,
``counts.tolist()``, ``if mask.any():``) or running an operation whose
output size depends on the values (``x[mask]``, ``nonzero``) waits until
every kernel queued before it has run (``cudaStreamSynchronize``). While
the host waits it queues nothing, and once it resumes the GPU idles until
the next kernel arrives: a training step with such reads spread over it
cannot keep the GPU busy, however fast its kernels are.

:class:`HostSyncCounter` records these operations with the line of code
that made them. The same code makes the same reads on any device, so the
count can be taken on a CPU (where they cost nothing) and holds on a GPU;
tests use this to keep the device training path free of them.
"""
import contextlib
import os.path as osp
import threading
import traceback
from collections import Counter
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

#: ``Tensor`` methods that hand a value to Python.
HOST_READS = frozenset([
    'item', 'tolist', '__bool__', '__int__', '__float__', '__index__', 'numpy'
])

#: ATen operations whose output size depends on the input values (the
#: host needs the size to allocate the result), or that return a value.
VALUE_DEPENDENT_OPS = frozenset([
    'aten._local_scalar_dense.default', 'aten.nonzero.default',
    'aten.masked_select.default', 'aten._unique2.default',
    'aten.unique_dim.default', 'aten.unique_consecutive.default',
    'aten.bincount.default', 'aten.is_nonzero.default', 'aten.equal.default'
])

#: ATen indexing operations that synchronise when an index is a mask.
MASK_INDEX_OPS = frozenset(
    ['aten.index.Tensor', 'aten.index_put.default', 'aten.index_put_.default'])

_TORCH_DIR = osp.dirname(torch.__file__)
#: Reads of values copied earlier (:class:`AsyncHostCopy`), not counted.
_EXEMPT = threading.local()
_THIS_FILE = osp.abspath(__file__)

#: One record: (operation, "file:line in function" of the caller).
Record = Tuple[str, str]


def _caller() -> str:
    """The innermost frame outside torch and this module."""
    for frame in reversed(traceback.extract_stack()):
        name = osp.abspath(frame.filename)
        if name.startswith(_TORCH_DIR) or name == _THIS_FILE:
            continue
        return f'{frame.filename}:{frame.lineno} in {frame.name}'
    return '<unknown>'


def _exempt() -> bool:
    return getattr(_EXEMPT, 'depth', 0) > 0


def _on_device(value, device_type: Optional[str]) -> bool:
    return isinstance(value,
                      torch.Tensor) and (device_type is None
                                         or value.device.type == device_type)


def _is_mask(value) -> bool:
    return isinstance(
        value, torch.Tensor) and value.dtype in (torch.bool, torch.uint8)


class _ReadMode(TorchFunctionMode):
    """Python-level reads of tensor values (``item``, ``bool()``, ...)."""

    def __init__(self, counter: 'HostSyncCounter') -> None:
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, '__name__', '')
        if name in HOST_READS and not _exempt() and args and _on_device(
                args[0], self.counter.device_type):
            self.counter._record(f'Tensor.{name}')
            with self.counter._reading():
                return func(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))


class _OpMode(TorchDispatchMode):
    """ATen operations that need values on the host."""

    def __init__(self, counter: 'HostSyncCounter') -> None:
        super().__init__()
        self.counter = counter

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        counter = self.counter
        if not counter._in_read() and not _exempt() and args and _on_device(
                args[0], counter.device_type):
            if name in VALUE_DEPENDENT_OPS:
                counter._record(name)
            elif name in MASK_INDEX_OPS and len(args) > 1 and any(
                    _is_mask(i) for i in (args[1] or ())):
                counter._record(f'{name} (mask index)')
            elif name == 'aten.repeat_interleave.Tensor' and (
                    kwargs or {}).get('output_size') is None:
                counter._record(name)
            elif name in ('aten._to_copy.default', 'aten.copy_.default'):
                self._device_to_host(func, args, kwargs or {})
        return func(*args, **(kwargs or {}))

    def _device_to_host(self, func, args, kwargs) -> None:
        """A blocking copy from a non-CPU device to the host."""
        non_blocking = kwargs.get('non_blocking', False)
        if str(func) == 'aten.copy_.default' and len(args) > 2:
            non_blocking = args[2]
        if non_blocking:
            return
        if str(func) == 'aten._to_copy.default':
            src, dst = args[0], kwargs.get('device')
            to_host = dst is not None and torch.device(dst).type == 'cpu'
        else:
            dst, src = args[0], args[1]
            to_host = isinstance(src, torch.Tensor) and dst.device.type == \
                'cpu'
        if to_host and src.device.type != 'cpu':
            self.counter._record(f'{func} (to host)')


class HostSyncCounter:
    """Context manager that records every operation of the code it holds
    which needs a tensor's value on the host.

    Recorded are the reads of a value by Python (``Tensor.item``,
    ``tolist``, ``bool()``, ``int()``, ``float()``, use as an index,
    ``numpy``), the ATen operations that return a value or whose result's
    size depends on the values (``nonzero``, ``masked_select``, ``unique``,
    ``bincount``, ``equal``, indexing with a boolean mask,
    ``repeat_interleave`` without ``output_size``), and blocking copies to
    the host. Each record names the operation and the innermost line of
    code outside torch that made it.

    Only operations on tensors of ``device_type`` count (``None``: any
    device). On a CPU every tensor is a host tensor, so the records there
    are the reads that would wait for a GPU if the same tensor were on one
    (e.g. a read of a batch tensor before it is moved to the device counts
    too). Compiled functions are not looked into; run the code eagerly.

    Example:
        >>> with HostSyncCounter() as syncs:
        ...     loss = model(x).sum()
        ...     print(loss.item())
        >>> syncs.total, syncs.by_caller()

    Args:
        device_type (str, optional): Count operations on tensors of this
            device type only. Defaults to None.
    """

    def __init__(self, device_type: Optional[str] = None) -> None:
        self.device_type = device_type
        self.records: List[Record] = []
        self._local = threading.local()
        self._modes: Tuple = ()

    def __enter__(self) -> 'HostSyncCounter':
        self._modes = (_ReadMode(self), _OpMode(self))
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
        self._modes = ()

    @property
    def total(self) -> int:
        """Number of operations recorded."""
        return len(self.records)

    def by_caller(self) -> Dict[str, int]:
        """Counts per "operation at file:line in function", most first."""
        counts = Counter(f'{op} at {where}' for op, where in self.records)
        return dict(counts.most_common())

    def summary(self) -> str:
        """One line per operation and caller, with its count."""
        lines = [f'{n:5d}  {what}' for what, n in self.by_caller().items()]
        return '\n'.join([f'{self.total} host synchronisations'] + lines)

    # -- internals ------------------------------------------------------

    def _record(self, op: str) -> None:
        self.records.append((op, _caller()))

    def _in_read(self) -> bool:
        return getattr(self._local, 'depth', 0) > 0

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Marks a recorded read, so that the ATen operation it runs (e.g.
        ``_local_scalar_dense``) is not counted a second time."""
        self._local.depth = getattr(self._local, 'depth', 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1


class AsyncHostCopy:
    """Scalars of the device, copied to the host without waiting for it.

    The copy is queued behind the work that computes the values (into
    pinned memory on a GPU, with an event recorded after it); :meth:`get`
    waits for that event only. Read one iteration later, the values are
    long there and the host never waits for the iteration it is queueing.
    On a CPU the values are simply kept. Reads by :meth:`get` are not
    counted by :class:`HostSyncCounter`.

    Args:
        values (Sequence[Tensor]): Tensors of one element each, on one
            device (any dtype; read as float, or bool for bool tensors).
    """

    def __init__(self, values: Sequence[torch.Tensor]) -> None:
        flat = [v.detach().reshape(-1) for v in values]
        bad = [tuple(v.shape) for v in flat if v.numel() != 1]
        if bad:
            raise ValueError(
                f'AsyncHostCopy takes one-element tensors, got shapes {bad}')
        self._bool = all(v.dtype == torch.bool for v in flat)
        stacked = torch.cat(
            [v.to(torch.bool if self._bool else torch.float64)
             for v in flat]) if flat else torch.zeros(0)
        self._event = None
        if stacked.device.type == 'cuda':
            host = torch.empty(
                stacked.shape, dtype=stacked.dtype, pin_memory=True)
            host.copy_(stacked, non_blocking=True)
            self._event = torch.cuda.Event()
            self._event.record()
            stacked = host
        self._host = stacked

    def ready(self) -> bool:
        """Whether :meth:`get` would return without waiting."""
        return self._event is None or self._event.query()

    def get(self) -> List[Union[float, bool]]:
        """The values as Python floats (bools for bool tensors), waiting
        for the copy if it is not done yet."""
        if self._event is not None:
            self._event.synchronize()
        _EXEMPT.depth = getattr(_EXEMPT, 'depth', 0) + 1
        try:
            return self._host.tolist()
        finally:
            _EXEMPT.depth -= 1
