"""Logging the RGB-event pairing statistics of the FRED datasets."""
import os.path as osp
from typing import List, Optional, Union

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmfusion.engine.hooks.epoch_record_hook import read_csv, write_csv
from ...datasets.fusion_stats import format_fusion_stats

CSV_COLUMNS = ('epoch', 'split', 'paired', 'total', 'dual_rate',
               'avg_time_diff_ms')


def find_fusion_stats(dataset) -> Optional[dict]:
    """Fusion statistics of a dataset, looking through dataset wrappers.

    Wrappers with a ``dataset`` attribute (``MultiImageMixDataset``,
    ``ClassBalancedDataset``, ...) are unwrapped; the statistics of
    ``ConcatDataset``'s parts are summed.

    Args:
        dataset: A dataset exposing ``fusion_stats`` (``paired``,
            ``total`` and ``mean_abs_time_diff_ms``), or a wrapper of one.

    Returns:
        dict, optional: ``paired``, ``total``, ``dual_rate`` (0-1) and
        ``avg_time_diff_ms`` (mean absolute RGB-to-event time difference
        over all samples), or None if no dataset has statistics.
    """
    found: List[dict] = []

    def visit(ds) -> None:
        stats = getattr(ds, 'fusion_stats', None)
        if stats is not None:
            found.append(stats)
        elif getattr(ds, 'datasets', None) is not None:
            for part in ds.datasets:
                visit(part)
        elif getattr(ds, 'dataset', None) is not None:
            visit(ds.dataset)

    visit(dataset)
    if not found:
        return None
    paired = sum(int(s['paired']) for s in found)
    total = sum(int(s['total']) for s in found)
    diff_sum = sum(
        s.get('mean_abs_time_diff_ms', s.get('mean_time_diff_ms', 0.)) *
        int(s['total']) for s in found)
    return dict(
        paired=paired,
        total=total,
        dual_rate=paired / total if total else 0.,
        avg_time_diff_ms=diff_sum / total if total else 0.)


@HOOKS.register_module()
class FusionStatsHook(Hook):
    """Log the dual rate and time difference of the train and val sets.

    At the start of every training epoch (train set) and of every
    validation during training (val set) the hook

    - prints the seed-style line, e.g. ``Fusion (train): Dual Rate:
      5120/13629 (37.6%), Avg Time Diff: 15.23ms``;
    - sends ``fusion/dual_rate`` and ``fusion/avg_time_diff_ms`` (val:
      ``fusion/val_dual_rate``, ``fusion/val_avg_time_diff_ms``) to every
      visualizer backend (TensorBoard, ...) at step ``epoch``;
    - adds a row ``epoch, split, paired, total, dual_rate,
      avg_time_diff_ms`` to ``fusion_stats.csv`` in the work dir
      (rewritten atomically; ``--resume`` keeps the rows up to the resumed
      epoch, so none appears twice).

    The datasets are found through their wrappers (see
    :func:`find_fusion_stats`); a dataset without statistics (e.g. a
    single-modality dataset) is skipped with one warning.

    Args:
        filename (str): CSV file name in the work dir. Defaults to
            ``'fusion_stats.csv'``.
        priority (str | int): Hook priority. Defaults to
            ``'BELOW_NORMAL'``.
    """

    def __init__(self,
                 filename: str = 'fusion_stats.csv',
                 priority: Union[str, int] = 'BELOW_NORMAL') -> None:
        self.filename = filename
        self.priority = priority
        self._rows: List[dict] = []
        self._training = False
        self._warned = set()

    def before_train(self, runner) -> None:
        """Start the CSV, or keep its rows up to the resumed epoch.

        Args:
            runner (Runner): The runner.
        """
        self._training = True
        self._rows = []
        if runner.iter > 0 and is_main_process():
            self._rows = [
                row for row in read_csv(self._path(runner))
                if int(row['epoch']) <= runner.epoch
            ]

    def after_train(self, runner) -> None:
        """Stop writing rows.

        Args:
            runner (Runner): The runner.
        """
        self._training = False

    def before_train_epoch(self, runner) -> None:
        """Log the statistics of the train set.

        Args:
            runner (Runner): The runner.
        """
        self._log(runner, 'train', runner.train_dataloader.dataset,
                  runner.epoch + 1)

    def before_val_epoch(self, runner) -> None:
        """Log the statistics of the val set during training.

        Args:
            runner (Runner): The runner.
        """
        if self._training:
            self._log(runner, 'val', runner.val_dataloader.dataset,
                      runner.epoch)

    def _path(self, runner) -> str:
        return osp.join(runner.work_dir, self.filename)

    def _log(self, runner, split: str, dataset, epoch: int) -> None:
        stats = find_fusion_stats(dataset)
        if stats is None:
            if split not in self._warned:
                self._warned.add(split)
                runner.logger.warning(
                    f'FusionStatsHook: the {split} dataset '
                    f'{type(dataset).__name__} has no fusion_stats')
            return
        line = format_fusion_stats(stats['paired'], stats['total'],
                                   stats['avg_time_diff_ms'])
        runner.logger.info(line.replace('Fusion:', f'Fusion ({split}):'))
        prefix = 'fusion/' if split == 'train' else f'fusion/{split}_'
        runner.visualizer.add_scalars(
            {
                f'{prefix}dual_rate': stats['dual_rate'],
                f'{prefix}avg_time_diff_ms': stats['avg_time_diff_ms']
            },
            step=epoch)
        if not is_main_process():
            return
        self._rows = [
            row for row in self._rows
            if not (int(row['epoch']) == epoch and row['split'] == split)
        ]
        self._rows.append(
            dict(
                epoch=epoch,
                split=split,
                paired=stats['paired'],
                total=stats['total'],
                dual_rate=round(stats['dual_rate'], 6),
                avg_time_diff_ms=round(stats['avg_time_diff_ms'], 4)))
        write_csv(self._path(runner), CSV_COLUMNS, self._rows)
