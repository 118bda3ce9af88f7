"""Convert FRED sequences into fusion annotation files, split by split."""
import contextlib
import json
import os
import os.path as osp
import sys
from collections import Counter
from multiprocessing.pool import Pool
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.utils import track_iter_progress

from mmfusion.datasets import DataProblem, DataReport
from mmfusion.utils.fileio import atomic_open, atomic_write_text
from ..datasets.fred_data_error import FREDDataError
from ..datasets.fusion_stats import format_fusion_stats
from .fred_annotation import CLASS_MODES
from .fred_pairing import drop_refused_frames, pair_sequence, summarize_entries
from .fred_sequence_scan import scan_sequence

#: Split names of each split set.
SPLIT_SETS = {
    'canonical': ('train', 'test'),
    'challenging': ('challenging_train', 'challenging_test'),
}
#: Folder of the split files, relative to the data root.
SPLIT_DIR = 'dataset_splits'
# Problems that make a whole sequence unusable.
_SEQUENCE_PROBLEMS = {
    'missing_rgb_folder', 'no_rgb_frames', 'missing_event_folder',
    'no_event_frames', 'missing_annotation', 'missing_sequence'
}
#: Problems no option skips: the run cannot produce its splits.
FATAL_PROBLEMS = frozenset({
    'missing_root', 'missing_split', 'malformed_split_line', 'empty_split',
    'split_without_boxes'
})


def read_split_file(path: str) -> List[str]:
    """Read a ``dataset_splits/*_split.txt`` file (lines like ``12/``).

    Args:
        path (str): The split file.

    Returns:
        list[str]: Sequence ids in file order.

    Raises:
        FREDDataError: If the file is missing, lists no sequence, or has
            malformed lines (all of them listed).
    """
    if not osp.isfile(path):
        raise FREDDataError(
            [DataProblem('missing_split', path, 'split file does not exist')])
    seq_ids, problems = [], []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            text = line.strip().rstrip('/')
            if not line.strip():
                continue
            if not text or '/' in text or text in ('.', '..'):
                problems.append(
                    DataProblem(
                        'malformed_split_line', path,
                        f'expected a sequence id like "12/", got '
                        f'{line.strip()!r}', lineno))
                continue
            seq_ids.append(text)
    if not seq_ids and not problems:
        problems.append(
            DataProblem('empty_split', path, 'split file lists no sequence'))
    if problems:
        raise FREDDataError(problems)
    return seq_ids


def find_sequence_dir(root: str, seq_id: str) -> Optional[str]:
    """Locate ``seq_id`` as ``root/<seq_id>`` or ``root/<group>/<seq_id>``.

    The second form covers releases unpacked into ``train/`` and ``test/``.

    Args:
        root (str): Data root.
        seq_id (str): Sequence id.

    Returns:
        str | None: The folder relative to ``root``, None if absent.
    """
    if osp.isdir(osp.join(root, seq_id)):
        return seq_id
    for group in sorted(os.listdir(root)):
        if osp.isdir(osp.join(root, group, seq_id)):
            return osp.join(group, seq_id)
    return None


def convert_sequence(task: Tuple[str, str, dict]) -> dict:
    """Scan, check and pair one sequence (runs in a worker process).

    Frames whose annotation line was refused are left out (see
    :func:`drop_refused_frames`) and counted in ``skipped``.

    Args:
        task (tuple): ``(root, seq_id, options)`` with ``options`` holding
            ``coords``, ``class_mode``, ``box_tolerance``,
            ``fusion_threshold`` and ``ann_tolerance``.

    Returns:
        dict: ``seq``, ``entries``, ``problems`` (as tuples), ``skipped``
        (dict) and ``num_annotation_lines``.
    """
    root, seq_id, opt = task
    rel = find_sequence_dir(root, seq_id)
    if rel is None:
        problem = DataProblem(
            'missing_sequence', osp.join(root, seq_id),
            'sequence folder listed in the split does '
            'not exist')
        return dict(
            seq=seq_id,
            entries=[],
            problems=[tuple(problem)],
            skipped={},
            num_annotation_lines=0)
    scan = scan_sequence(
        osp.join(root, rel), opt['coords'], opt['class_mode'],
        opt['box_tolerance'])
    entries, problems = [], list(scan.problems)
    skipped = Counter(scan.skipped)
    if scan.event_frames:
        entries, pair_problems = pair_sequence(scan, seq_id, rel,
                                               opt['fusion_threshold'],
                                               opt['ann_tolerance'])
        problems.extend(
            p._replace(file=osp.join(root, p.file)) for p in pair_problems)
        entries, dropped = drop_refused_frames(entries, scan.refused,
                                               opt['ann_tolerance'])
        skipped.update(dropped)
    return dict(
        seq=seq_id,
        entries=entries,
        problems=[tuple(p) for p in problems],
        skipped=dict(skipped),
        num_annotation_lines=scan.num_annotation_lines)


def iter_sequences(root: str,
                   seq_ids: Sequence[str],
                   options: dict,
                   pool: Optional[Pool] = None) -> Iterator[dict]:
    """Convert sequences in order, in parallel when a pool is given.

    Only a few sequences are held in memory at a time.

    Args:
        root (str): Data root.
        seq_ids (Sequence[str]): Sequence ids.
        options (dict): See :func:`convert_sequence`.
        pool (Pool, optional): Worker pool. Defaults
            to None (convert in this process).

    Yields:
        dict: Results of :func:`convert_sequence`.
    """
    tasks = ((root, seq_id, options) for seq_id in seq_ids)
    if pool is None:
        yield from map(convert_sequence, tasks)
    else:
        yield from pool.imap(convert_sequence, tasks, chunksize=1)


def _options(coords: str, class_mode: str, fusion_threshold: float,
             ann_tolerance: float, box_tolerance: float) -> dict:
    """The per-sequence options of :func:`convert_sequence`."""
    return dict(
        coords=coords,
        class_mode=class_mode,
        box_tolerance=box_tolerance,
        fusion_threshold=fusion_threshold,
        ann_tolerance=ann_tolerance)


def convert_split(root: str,
                  split: str,
                  seq_ids: Sequence[str],
                  out_file: Optional[str],
                  coords: str = 'coordinates.txt',
                  class_mode: str = 'five',
                  fusion_threshold: float = 0.1,
                  ann_tolerance: float = 1 / 60,
                  box_tolerance: float = 4.0,
                  skip_bad: bool = False,
                  pool: Optional[Pool] = None,
                  progress: bool = False,
                  split_file: Optional[str] = None) -> dict:
    """Write the fusion annotation file of one split and its statistics.

    The file is mmengine's ``BaseDataset`` format: ``{'metainfo': {...},
    'data_list': [...]}``, one entry per RGB frame (see
    :func:`pair_sequence`) plus a split-wide integer ``img_id``. Entries
    are streamed to disk sequence by sequence. Every sequence is checked;
    then any problem aborts the conversion (nothing is written) with all
    problems listed. With ``skip_bad`` the bad items (lines, frames, whole
    sequences) are left out and counted by kind, and a frame whose
    annotation line was refused is left out with it; a split that would
    hold no box fails in either case.

    Args:
        root (str): Data root.
        split (str): Split name, e.g. ``'train'``.
        seq_ids (Sequence[str]): Sequences of the split.
        out_file (str, optional): Output JSON path; None checks only.
        coords (str): Annotation file of each sequence. Defaults to
            ``'coordinates.txt'``.
        class_mode (str): ``'five'`` or ``'drone'``. Defaults to ``'five'``.
        fusion_threshold (float): Pairing threshold in seconds. Defaults to
            0.1.
        ann_tolerance (float): Frame-to-annotation time tolerance in
            seconds. Defaults to 1/60.
        box_tolerance (float): Pixels a box may exceed the frame by.
            Defaults to 4.0.
        skip_bad (bool): Skip and count bad items instead of failing.
            Defaults to False.
        pool (Pool, optional): Worker pool. Defaults
            to None.
        progress (bool): Show a progress bar over the sequences, with the
            time left. Defaults to False.
        split_file (str, optional): The file that lists ``seq_ids``, named
            by problems of the whole split. Defaults to None: ``out_file``
            or ``root`` is named.

    Returns:
        dict: Statistics (also written next to ``out_file`` as
        ``*_stats.json``), including ``'problems'`` (list of str).

    Raises:
        FREDDataError: Listing every problem, as described above.
    """
    run = _Run(
        root,
        _options(coords, class_mode, fusion_threshold, ann_tolerance,
                 box_tolerance), skip_bad, pool, progress)
    run.split_files[split] = split_file or out_file or root
    return run.convert({split: list(seq_ids)}, {split: out_file})[split]


def convert_splits(root: str,
                   splits: Sequence[str],
                   out_dir: Optional[str] = None,
                   split_dir: Optional[str] = None,
                   coords: str = 'coordinates.txt',
                   class_mode: str = 'five',
                   fusion_threshold: float = 0.1,
                   ann_tolerance: float = 1 / 60,
                   box_tolerance: float = 4.0,
                   skip_bad: bool = False,
                   pool: Optional[Pool] = None,
                   progress: bool = False) -> Dict[str, dict]:
    """Check and convert several splits of a data root in one run.

    Every split file, sequence, frame and annotation line of every split
    is checked before the run decides: with any problem it fails with one
    :class:`FREDDataError` that counts the problems of each kind and names
    the first ones (file and line), and no file is written. With
    ``skip_bad`` the bad items are skipped and counted (see
    :func:`convert_split`), except for what no option can skip: a missing
    data root, a missing, empty or malformed split file and a split that
    would hold no box (:data:`FATAL_PROBLEMS`).

    Args:
        root (str): Data root.
        splits (Sequence[str]): Split names, e.g. ``('train', 'test')``;
            split ``s`` is listed in ``<split_dir>/<s>_split.txt``.
        out_dir (str, optional): Folder of the annotation files
            ``fred_fusion_<split>.json``; None checks only. Defaults to
            None.
        split_dir (str, optional): Folder of the split files. Defaults to
            ``<root>/dataset_splits``.
        coords, class_mode, fusion_threshold, ann_tolerance,
        box_tolerance, skip_bad, pool, progress: As in
            :func:`convert_split`.

    Returns:
        dict[str, dict]: The statistics of each split.

    Raises:
        FREDDataError: Listing every problem of the run.
    """
    run = _Run(
        root,
        _options(coords, class_mode, fusion_threshold, ann_tolerance,
                 box_tolerance), skip_bad, pool, progress)
    if not osp.isdir(root):
        run.report.error('missing_root', root,
                         'data root does not exist or is not a folder')
        run.report.raise_if_errors()
    split_dir = split_dir or osp.join(root, SPLIT_DIR)
    seq_ids, out_files = {}, {}
    for split in splits:
        path = osp.join(split_dir, f'{split}_split.txt')
        try:
            seq_ids[split] = read_split_file(path)
        except FREDDataError as e:
            run.report.add_errors(e)
            continue
        run.split_files[split] = path
        out_files[split] = None if out_dir is None else osp.join(
            out_dir, f'fred_fusion_{split}.json')
    return run.convert(seq_ids, out_files)


class _Run:
    """One conversion run over one or several splits: one report for all
    of them, and annotation files that are committed together or not at
    all."""

    def __init__(self, root: str, options: dict, skip_bad: bool,
                 pool: Optional[Pool], progress: bool) -> None:
        self.root = root
        self.options = options
        self.skip_bad = skip_bad
        self.pool = pool
        self.progress = progress
        self.report = DataReport(FREDDataError)
        self.split_files: Dict[str, str] = {}

    def metainfo(self, split: str) -> dict:
        """The ``metainfo`` of the annotation file of ``split``."""
        opt = self.options
        return dict(
            classes=list(CLASS_MODES[opt['class_mode']]),
            class_mode=opt['class_mode'],
            split=split,
            fusion_threshold=opt['fusion_threshold'],
            ann_file=opt['coords'],
            ann_tolerance=opt['ann_tolerance'],
            box_tolerance=opt['box_tolerance'])

    def failed(self) -> bool:
        """Whether the problems found so far make the run fail."""
        errors = self.report.errors
        return bool(errors) and (not self.skip_bad
                                 or any(p.kind in FATAL_PROBLEMS
                                        for p in errors))

    def convert(self, seq_ids: Dict[str, List[str]],
                out_files: Dict[str, Optional[str]]) -> Dict[str, dict]:
        """Convert every split; raise if the run failed (see
        :func:`convert_splits`), else write the statistics."""
        results = {}
        with contextlib.ExitStack() as stack:
            for split, ids in seq_ids.items():
                out_file = out_files[split]
                writer = None if out_file is None else stack.enter_context(
                    _EntryWriter(out_file, self.metainfo(split)))
                results[split] = self._convert_split(split, ids, writer)
            if self.failed():
                # What no option skips is listed first; raised inside the
                # block: no file is written.
                self.report.errors.sort(
                    key=lambda p: p.kind not in FATAL_PROBLEMS)
                self.report.raise_if_errors()
        stats = {}
        for split, (totals, report) in results.items():
            for problem in report.errors:
                report.count(problem.kind)
            classes = CLASS_MODES[self.options['class_mode']]
            stats[split] = totals.stats(split, classes, report)
            if out_files[split] is not None:
                atomic_write_text(
                    osp.splitext(out_files[split])[0] + '_stats.json',
                    json.dumps(stats[split], indent=2),
                    encoding='utf-8')
        return stats

    def _convert_split(self, split: str, seq_ids: List[str],
                       writer: Optional['_EntryWriter']
                       ) -> Tuple['_SplitTotals', DataReport]:
        """Convert the sequences of one split into ``writer``; the
        problems go to the split's report and to the run's."""
        report = DataReport(FREDDataError)
        totals = _SplitTotals()
        results = iter_sequences(self.root, seq_ids, self.options, self.pool)
        if self.progress:
            print(f'[{split}] {len(seq_ids)} sequences')
            # sys.stdout of now (mmengine's default is that of import time)
            results = track_iter_progress((results, len(seq_ids)),
                                          file=sys.stdout)
        for result in results:
            problems = [DataProblem(*p) for p in result['problems']]
            report.add_errors(problems)
            self.report.add_errors(problems)
            report.counts.update(result['skipped'])
            self.report.counts.update(result['skipped'])
            if any(p.kind in _SEQUENCE_PROBLEMS for p in problems):
                report.count('sequence')
                self.report.count('sequence')
                continue
            totals.add(result['entries'])
            if writer is not None and not self.failed():
                writer.write(result['entries'])
        if not sum(totals.boxes_per_label.values()):
            problem = DataProblem(
                'split_without_boxes', self.split_files[split],
                f'split {split!r} would hold no box: none of its '
                f'{totals.counts["frames"]} frames from '
                f'{totals.counts["sequences"]} of {len(seq_ids)} sequences '
                'has one (see the other problems)')
            report.add_errors([problem])
            self.report.add_errors([problem])
        return totals, report


class _EntryWriter:
    """Streams the entries of a split into its annotation file, which
    appears complete or not at all (:func:`atomic_open`)."""

    def __init__(self, out_file: str, metainfo: dict) -> None:
        self.out_file = out_file
        self.metainfo = metainfo
        self.img_id = 0

    def __enter__(self) -> '_EntryWriter':
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        self._open = atomic_open(self.out_file, 'w', encoding='utf-8')
        self._file = self._open.__enter__()
        self._file.write('{"metainfo": ' + json.dumps(self.metainfo) +
                         ',\n"data_list": [')
        return self

    def write(self, entries: List[dict]) -> None:
        """Append entries, numbering them with a split-wide ``img_id``."""
        for entry in entries:
            self._file.write((',\n' if self.img_id else '\n') +
                             json.dumps(dict(img_id=self.img_id, **entry)))
            self.img_id += 1

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            self._file.write('\n]}\n')
        self._open.__exit__(*exc_info)


class _SplitTotals:
    """Pairing and box counts of the converted sequences of a split."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.boxes_per_label: Counter = Counter()
        self.sum_abs_diff = 0.
        self.max_abs_diff = 0.

    def add(self, entries: List[dict]) -> None:
        """Add the entries of one sequence."""
        summary = summarize_entries(entries)
        self.counts['sequences'] += 1
        for key in ('frames', 'paired', 'frames_without_boxes'):
            self.counts[key] += summary[key]
        self.sum_abs_diff += summary['sum_abs_diff']
        self.max_abs_diff = max(self.max_abs_diff, summary['max_abs_diff'])
        self.boxes_per_label.update(summary['boxes_per_label'])

    def stats(self, split: str, classes: Sequence[str],
              report: DataReport) -> dict:
        """The statistics of :func:`convert_split`."""
        frames, paired = self.counts['frames'], self.counts['paired']
        mean_ms = 1e3 * self.sum_abs_diff / frames if frames else 0.
        return dict(
            split=split,
            sequences=self.counts['sequences'],
            frames=frames,
            paired=paired,
            unpaired=frames - paired,
            dual_rate=paired / frames if frames else 0.,
            mean_abs_time_diff_ms=mean_ms,
            max_abs_time_diff_ms=1e3 * self.max_abs_diff,
            boxes_per_class={
                name: self.boxes_per_label.get(i, 0)
                for i, name in enumerate(classes)
            },
            frames_without_boxes=self.counts['frames_without_boxes'],
            skipped=dict(sorted(report.counts.items())),
            problems=[str(p) for p in report.errors],
            fusion=format_fusion_stats(paired, frames, mean_ms))


def format_split_stats(stats: Dict) -> str:
    """Human-readable summary of :func:`convert_split` statistics.

    Args:
        stats (dict): Statistics of one split.

    Returns:
        str: Multi-line text ending with the fusion line.
    """
    lines = [
        f"[{stats['split']}] sequences: {stats['sequences']}, "
        f"frames: {stats['frames']} (paired {stats['paired']}, "
        f"unpaired {stats['unpaired']})",
        f"  |time diff|: mean {stats['mean_abs_time_diff_ms']:.2f}ms, "
        f"max {stats['max_abs_time_diff_ms']:.2f}ms",
        '  boxes per class: ' +
        ', '.join(f'{k}: {v}' for k, v in stats['boxes_per_class'].items()),
        f"  frames without boxes: {stats['frames_without_boxes']}",
        '  skipped: ' +
        (', '.join(f'{k}: {v}'
                   for k, v in stats['skipped'].items()) or 'none'),
        stats['fusion'],
    ]
    return '\n'.join(lines)
