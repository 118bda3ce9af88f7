"""Loss, validation and learning-rate curves as PNG files."""
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mmengine.registry import HOOKS

from mmfusion.utils.fileio import atomic_open, atomic_write_text
from .epoch_record_hook import EpochRecordHook, Record


@HOOKS.register_module()
class LossPlotHook(EpochRecordHook):
    """Plot per-epoch curves into the work dir while training runs.

    - ``epoch_loss.png``: mean training loss per epoch (bold) and the
      epoch means of the other ``loss*`` terms the model logs;
    - ``val_loss.png``: the validation loss (metric ``loss`` or
      ``val/loss``) if the evaluator reports one, otherwise ``val_metric``
      or the first metric of the evaluator, named in the title;
    - ``lr.png``: the learning rate at the end of each epoch;
    - ``loss_curves.json``: the plotted numbers, one record per epoch.

    Files are redrawn after each training epoch (loss, lr) and each
    validation (val), without pyplot's global state (Agg canvas), and
    replaced atomically.  ``--resume`` continues the curves of the work
    dir (see :class:`EpochRecordHook`).

    Example::

        custom_hooks = [dict(type='LossPlotHook')]

    Args:
        val_metric (str, optional): Validation metric to plot when there is
            no validation loss, e.g. ``'coco/bbox_mAP'``. Defaults to None.
        dpi (int): Resolution of the images. Defaults to 100.
        priority (str | int): Hook priority. Defaults to ``'LOW'``.
    """

    checkpoint_key = 'loss_plot'
    data_file = 'loss_curves.json'

    def __init__(self,
                 val_metric: Optional[str] = None,
                 dpi: int = 100,
                 priority: Union[str, int] = 'LOW') -> None:
        super().__init__(priority=priority)
        self.val_metric = val_metric
        self.dpi = dpi

    def read(self, runner) -> Optional[Dict[int, Record]]:
        """Records of ``loss_curves.json`` in the work dir, if any.

        Args:
            runner (Runner): The runner.
        """
        path = osp.join(runner.work_dir, self.data_file)
        if not osp.isfile(path):
            return None
        with open(path) as f:
            return {int(k): v for k, v in json.load(f).items()}

    def write(self, runner, what: str) -> None:
        """Redraw the curves that changed and save the numbers.

        Args:
            runner (Runner): The runner.
            what (str): ``'train'`` or ``'val'``.
        """
        work_dir = runner.work_dir
        atomic_write_text(
            osp.join(work_dir, self.data_file),
            json.dumps({
                str(k): v
                for k, v in self.records.items()
            }, indent=1))
        if what == 'train':
            terms = ['loss'] + sorted(k for k in self.columns()
                                      if k.startswith('loss') and k != 'loss')
            self._plot(
                osp.join(work_dir, 'epoch_loss.png'), 'Train loss',
                [(k, self._series(k)) for k in terms])
            lrs = [k for k in self.columns() if k.endswith('lr')]
            self._plot(
                osp.join(work_dir, 'lr.png'), 'Learning rate',
                [(k, self._series(k)) for k in lrs])
        else:
            name = self._val_key()
            if name is not None:
                self._plot(
                    osp.join(work_dir, 'val_loss.png'),
                    f'Validation {name[len("val/"):]}',
                    [(name, self._series(name))])

    def _val_key(self) -> Optional[str]:
        keys = [k for k in self.columns() if k.startswith('val/')]
        for key in ('val/loss', f'val/{self.val_metric}'):
            if key in keys:
                return key
        return keys[0] if keys else None

    def _series(self, key: str) -> Tuple[List[int], List[float]]:
        points = [(epoch, record[key])
                  for epoch, record in self.records.items() if key in record]
        return [p[0] for p in points], [p[1] for p in points]

    def _plot(self, path: str, title: str,
              curves: List[Tuple[str, Tuple[List[int], List[float]]]]) -> None:
        fig = Figure(figsize=(6, 4), dpi=self.dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for i, (label, (x, y)) in enumerate(curves):
            ax.plot(
                x,
                y,
                marker='.',
                linewidth=2.0 if i == 0 else 1.0,
                label=label)
        ax.set_xlabel('epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        if len(curves) > 1:
            ax.legend()
        fig.tight_layout()
        with atomic_open(path, 'wb') as f:
            fig.savefig(f, format='png')
