"""Base class of hooks that keep one record of scalars per epoch."""
import csv
import math
import os
from collections import OrderedDict
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmfusion.utils.fileio import atomic_write_text

DATA_BATCH = Optional[Union[dict, tuple, list]]
Record = Dict[str, float]


def write_csv(path: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Write ``rows`` (dicts) as a CSV with header ``columns``, atomically.

    Missing values are left empty.

    Args:
        path (str): Destination file.
        columns (Sequence[str]): Header.
        rows (Sequence[dict]): One dict per line.
    """
    lines = [','.join(columns)]
    for row in rows:
        lines.append(','.join(_format(row.get(c, '')) for c in columns))
    atomic_write_text(path, '\n'.join(lines) + '\n', newline='')


def read_csv(path: str) -> List[Dict[str, str]]:
    """Rows of a CSV file with a header, as dicts of strings.

    Args:
        path (str): The file.

    Returns:
        list[dict]: One dict per line; [] if the file does not exist.
    """
    if not os.path.isfile(path):
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def _format(value) -> str:
    if isinstance(value, float):
        return f'{value:.8g}'
    return str(value)


def _to_float(value) -> Optional[float]:
    if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
        value = value.item()
    if isinstance(value, Number) and not isinstance(value, bool):
        return float(value)
    return None


class EpochRecordHook(Hook):
    """Collect per-epoch training scalars and validation metrics.

    Each epoch gets a record (a dict) holding

    - the mean over the epoch's iterations of every scalar the model
      returned from ``train_step`` (``loss``, ``loss_cls``, ...), summed
      from the outputs on their device and read once per epoch, so that
      the hook adds no host synchronisation per iteration (non-finite
      values, of iterations that ``FiniteOptimWrapper`` skipped, are left
      out);
    - the learning rate(s) at the end of the epoch (``lr``, or
      ``<optimizer>.lr`` with several optimizers);
    - the validation metrics of that epoch, as ``val/<metric>``.

    Subclasses write the records out in :meth:`write` (rank 0 only), which
    is called after each training epoch and each validation.

    On ``--resume`` the records of the finished epochs are read back from
    the output file in the work dir (:meth:`read`), or, if the work dir has
    none, from the checkpoint; records of later epochs (of a run that went
    further than the checkpoint) are dropped, so no epoch appears twice.
    A resumed run starting mid-epoch also continues that epoch's means.

    Args:
        priority (str | int): Hook priority. Defaults to ``'LOW'``: after
            ``RuntimeInfoHook`` filled the message hub and before
            ``CheckpointHook`` saves the records.
    """

    #: Key of the hook's state in checkpoints.
    checkpoint_key = 'epoch_records'

    def __init__(self, priority: Union[str, int] = 'LOW') -> None:
        self.priority = priority
        self.records: 'OrderedDict[int, Record]' = OrderedDict()
        self._sums: Dict[str, float] = {}
        self._counts: Dict[str, int] = {}
        self._lrs: Record = {}
        self._loaded: Optional[tuple] = None
        self._training = False

    # -- to be implemented by subclasses --------------------------------

    def read(self, runner) -> Optional[Dict[int, Record]]:
        """Records found in the output file of the work dir, or None.

        Args:
            runner (Runner): The runner.
        """
        return None

    def write(self, runner, what: str) -> None:
        """Write the records out.

        Args:
            runner (Runner): The runner.
            what (str): ``'train'`` after a training epoch, ``'val'``
                after a validation.
        """
        raise NotImplementedError

    # -- hook points --------------------------------------------------

    def before_train(self, runner) -> None:
        """Start new records, or continue those of a resumed run.

        Args:
            runner (Runner): The runner.
        """
        self._training = True
        self.records = OrderedDict()
        self._reset_epoch()
        loaded, self._loaded = self._loaded, None
        if runner.iter == 0:
            return
        resumed = loaded is not None and loaded[0] == runner.iter
        records = self.read(runner) if is_main_process() else None
        if records is None and resumed:
            records = loaded[1]['records']
        for epoch, record in sorted((records or {}).items()):
            if epoch <= runner.epoch:
                self.records[epoch] = dict(record)
        if resumed:
            state = loaded[1]
            self._sums = dict(state['sums'])
            self._counts = dict(state['counts'])
            self._lrs = dict(state['lrs'])

    def after_train(self, runner) -> None:
        """Stop recording (a later ``runner.val()`` is not an epoch).

        Args:
            runner (Runner): The runner.
        """
        self._training = False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Add the iteration's logged scalars to the epoch's sums.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
            outputs (dict, optional): Outputs of ``train_step``.
        """
        for key, value in (outputs or {}).items():
            self._add(key, value)
        scalars = runner.message_hub.log_scalars
        for name in runner.optim_wrapper.get_lr():
            buffer = scalars.get(f'train/{name}')
            if buffer is not None:
                self._lrs[name] = float(buffer.current())

    def _add(self, key: str, value) -> None:
        """Add one output to the epoch's sums. A tensor is added on its
        device (no host synchronisation per iteration); NaN / inf values,
        of iterations that ``FiniteOptimWrapper`` skipped, are left out of
        the mean."""
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                return
            value = value.detach().reshape(()).to(torch.float64)
            finite = torch.isfinite(value)
            value = torch.where(finite, value, 0.0)
            count = finite.to(torch.float64)
        else:
            value = _to_float(value)
            if value is None or not math.isfinite(value):
                return
            count = 1
        self._sums[key] = self._sums.get(key, 0.0) + value
        self._counts[key] = self._counts.get(key, 0) + count

    def _host_sums(self) -> Tuple[Dict[str, float], Dict[str, int]]:
        """The epoch's sums and counts as Python numbers."""
        return ({
            k: float(v)
            for k, v in self._sums.items()
        }, {
            k: int(v)
            for k, v in self._counts.items()
        })

    def after_train_epoch(self, runner) -> None:
        """Close the epoch's record and write it.

        Args:
            runner (Runner): The runner.
        """
        sums, counts = self._host_sums()
        record = {
            key: sums[key] / counts[key]
            for key in sums if counts[key] > 0
        }
        record.update(self._lrs)
        epoch = runner.epoch + 1
        self.records.setdefault(epoch, {}).update(record)
        self._reset_epoch()
        if is_main_process():
            self.write(runner, 'train')

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Add the validation metrics to the epoch's record and write it.

        Args:
            runner (Runner): The runner.
            metrics (dict, optional): Metrics of the validation.
        """
        if not self._training or not metrics:
            return
        record = self.records.setdefault(runner.epoch, {})
        for key, value in metrics.items():
            value = _to_float(value)
            if value is not None:
                name = key if key.startswith('val/') else f'val/{key}'
                record[name] = value
        if is_main_process():
            self.write(runner, 'val')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Save the records and the running epoch's sums.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint to be saved.
        """
        sums, counts = self._host_sums()
        checkpoint[self.checkpoint_key] = dict(
            records={
                k: dict(v)
                for k, v in self.records.items()
            },
            sums=sums,
            counts=counts,
            lrs=dict(self._lrs))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved records until :meth:`before_train` knows whether
        training resumed.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        state = checkpoint.get(self.checkpoint_key)
        if state is not None:
            self._loaded = (checkpoint.get('meta', {}).get('iter'), state)

    # -- helpers ------------------------------------------------------

    def _reset_epoch(self) -> None:
        self._sums, self._counts, self._lrs = {}, {}, {}

    def columns(self) -> List[str]:
        """Keys of all records: ``loss`` and ``lr`` first, then the other
        training scalars, then validation metrics, in order of appearance.
        """
        keys: List[str] = []
        for record in self.records.values():
            keys.extend(k for k in record if k not in keys)
        first = [k for k in ('loss', 'lr') if k in keys]
        train = [
            k for k in keys if k not in first and not k.startswith('val/')
        ]
        val = [k for k in keys if k.startswith('val/')]
        return first + train + val
