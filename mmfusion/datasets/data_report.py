"""Problems, warnings and counted skips found while reading a dataset, and
the error that reports them."""
import logging
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Type, Union

from mmengine.logging import print_log

from .data_problem import DataProblem


def format_problems(title: str,
                    errors: Sequence[DataProblem],
                    warnings: Sequence[DataProblem] = (),
                    counts: Optional[Dict[str, int]] = None,
                    max_lines: int = 20) -> str:
    """Text of a set of problems: one header line with the number of
    problems of each kind, then the first ``max_lines`` errors and warnings
    (each naming its file and line) and the counters.

    Args:
        title (str): What was read, e.g. ``'FRED data'``.
        errors (Sequence[DataProblem]): The errors.
        warnings (Sequence[DataProblem]): Problems handled by design.
            Defaults to ().
        counts (dict[str, int], optional): Items skipped or handled by
            design, by what they are. Defaults to None.
        max_lines (int): Errors and warnings listed at most, each. Defaults
            to 20.

    Returns:
        str: The text.
    """
    kinds = Counter(p.kind for p in errors)
    header = (f'{title}: {len(errors)} error(s)' +
              (' (' + ', '.join(f'{k}: {n}'
                                for k, n in sorted(kinds.items())) +
               ')' if kinds else '') + f', {len(warnings)} warning(s)')
    lines = [header]
    for tag, problems in (('ERROR', errors), ('WARNING', warnings)):
        lines.extend(f'  {tag} {p}' for p in problems[:max_lines])
        if len(problems) > max_lines:
            lines.append(f'  ... and {len(problems) - max_lines} more '
                         f'{tag.lower()}s')
    lines.extend(f'  COUNT {key}: {n}'
                 for key, n in sorted((counts or {}).items()))
    return '\n'.join(lines)


class DataError(ValueError):
    """Data files are missing, corrupt or malformed.

    The message names every listed problem's file (and line): a single
    problem reads as the problem itself (``path:3: not a number: 'abc'
    [malformed_line]``), several as :func:`format_problems` writes them,
    with the number of problems of each kind and the first
    :attr:`max_listed` of them.

    Subclasses name the dataset (:attr:`dataset`) so that callers catch
    the errors of one project.

    Args:
        problems (DataProblem | Sequence[DataProblem]): The problems.
        warnings (Sequence[DataProblem]): Problems handled by design, shown
            for context. Defaults to ().
        counts (dict[str, int], optional): Counted skips, shown for context.
            Defaults to None.
        summary (bool, optional): Write the summary with its header even
            for a single problem (as a report does). Defaults to None:
            only for several problems or with warnings or counts.
    """

    #: What the data is, in messages.
    dataset: str = 'the'
    #: Problems listed in the message at most.
    max_listed: int = 20

    def __init__(self,
                 problems: Union[DataProblem, Sequence[DataProblem]],
                 warnings: Sequence[DataProblem] = (),
                 counts: Optional[Dict[str, int]] = None,
                 summary: Optional[bool] = None) -> None:
        if isinstance(problems, DataProblem):
            problems = [problems]
        self.problems: List[DataProblem] = list(problems)
        if summary is None:
            summary = len(self.problems) != 1 or bool(warnings or counts)
        if not summary:
            message = str(self.problems[0])
        else:
            message = format_problems(f'{self.dataset} data', self.problems,
                                      warnings, counts, self.max_listed)
        super().__init__(message)


class DataReport:
    """Errors, warnings and counted skips found while reading a dataset.

    Every entry names a file (and a line where there is one). Errors make
    the data unusable as configured; warnings and counts are things that
    are handled by design (e.g. a sequence without raw IMU data, an item
    skipped on request) and are logged, never dropped silently.

    Args:
        error_type (type): The :class:`DataError` (subclass) that
            :meth:`raise_if_errors` raises. Defaults to :class:`DataError`.

    Examples:
        >>> report = DataReport()
        >>> report.error('time_not_increasing', 'seq/times.txt',
        ...              'time does not increase', line=3)
        >>> report.count('frames without IMU', 2)
        >>> print(report.format())  # doctest: +SKIP
    """

    def __init__(self, error_type: Type[DataError] = DataError) -> None:
        self.error_type = error_type
        self.errors: List[DataProblem] = []
        self.warnings: List[DataProblem] = []
        self.counts: Counter = Counter()

    def error(self,
              kind: str,
              file: str,
              message: str,
              line: Optional[int] = None) -> None:
        """Record an error of ``kind`` about ``file`` (and ``line``)."""
        self.errors.append(DataProblem(kind, file, message, line))

    def warn(self,
             kind: str,
             file: str,
             message: str,
             line: Optional[int] = None) -> None:
        """Record a warning of ``kind`` about ``file`` (and ``line``)."""
        self.warnings.append(DataProblem(kind, file, message, line))

    def add_errors(self, problems: Union[DataError,
                                         Iterable[DataProblem]]) -> None:
        """Record the problems of a reader's :class:`DataError` (or any
        problems) as errors."""
        if isinstance(problems, DataError):
            problems = problems.problems
        self.errors.extend(problems)

    def merge(self, other: 'DataReport') -> None:
        """Add the errors, warnings and counts of ``other`` (e.g. the
        report of one part of the data, checked in a worker process)."""
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)
        self.counts.update(other.counts)

    def count(self, key: str, n: int = 1) -> None:
        """Count ``n`` items skipped or handled by design under ``key``."""
        if n:
            self.counts[key] += n

    @property
    def ok(self) -> bool:
        """bool: Whether no error was recorded."""
        return not self.errors

    def format(self, max_lines: int = 50) -> str:
        """The report as text (see :func:`format_problems`), at most
        ``max_lines`` errors and warnings each."""
        return format_problems(f'{self.error_type.dataset} data', self.errors,
                               self.warnings, self.counts, max_lines)

    def log(self, logger: str = 'current') -> None:
        """Print the report through the mmengine logger."""
        level = logging.ERROR if self.errors else (
            logging.WARNING if self.warnings else logging.INFO)
        print_log(self.format(), logger=logger, level=level)

    def raise_if_errors(self) -> None:
        """Raise :attr:`error_type` listing every error (with the warnings
        and counts for context).

        Raises:
            DataError: If any error was recorded.
        """
        if self.errors:
            raise self.error_type(
                self.errors, self.warnings, self.counts, summary=True)
