"""One CSV row of training loss, learning rate and metrics per epoch."""
import os.path as osp
from typing import Dict, Optional, Union

from mmengine.registry import HOOKS

from .epoch_record_hook import EpochRecordHook, Record, read_csv, write_csv


@HOOKS.register_module()
class EpochCSVLoggerHook(EpochRecordHook):
    """Write ``epoch, loss, lr, ...`` as one CSV row per epoch.

    Columns: ``epoch``; ``loss``, the mean training loss of the epoch;
    ``lr``, the learning rate at the end of the epoch; the epoch means of
    the other scalars the model logs (``loss_cls``, ...); every validation
    metric of that epoch, as ``val/<metric>`` (empty in epochs without
    validation).  The whole file is written again, atomically, after every
    epoch and validation, so the header always holds every column seen so
    far.  ``--resume`` continues the file of the work dir from the resumed
    epoch without repeating rows (see :class:`EpochRecordHook`).

    Example::

        custom_hooks = [dict(type='EpochCSVLoggerHook')]

    Args:
        filename (str): File name in the work dir. Defaults to
            ``'metrics.csv'``.
        priority (str | int): Hook priority. Defaults to ``'LOW'``.
    """

    checkpoint_key = 'epoch_csv_logger'

    def __init__(self,
                 filename: str = 'metrics.csv',
                 priority: Union[str, int] = 'LOW') -> None:
        super().__init__(priority=priority)
        self.filename = filename

    def _path(self, runner) -> str:
        return osp.join(runner.work_dir, self.filename)

    def read(self, runner) -> Optional[Dict[int, Record]]:
        """Rows of the CSV in the work dir, or None if there is none.

        Args:
            runner (Runner): The runner.
        """
        path = self._path(runner)
        if not osp.isfile(path):
            return None
        records = {}
        for row in read_csv(path):
            record = {
                k: float(v)
                for k, v in row.items() if k != 'epoch' and v not in ('', None)
            }
            records[int(row['epoch'])] = record
        return records

    def write(self, runner, what: str) -> None:
        """Rewrite the CSV with all rows.

        Args:
            runner (Runner): The runner.
            what (str): ``'train'`` or ``'val'``.
        """
        rows = [
            dict(record, epoch=epoch)
            for epoch, record in self.records.items()
        ]
        write_csv(self._path(runner), ['epoch'] + self.columns(), rows)
