import logging
from collections import Counter
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from ..utils.kitti_io import KittiFormatError


class IntegrityReport:
    """Problems and counted skips found while reading a KITTI layout.

    Every entry names a file (and a line where there is one).  Errors make
    the data unusable as configured; warnings and counts are things that
    are handled by design (e.g. a sequence without raw IMU data) and are
    logged, never dropped silently.

    Examples:
        >>> report = IntegrityReport()
        >>> report.error('seq/times.txt', 'time does not increase', line=3)
        >>> report.count('frames without IMU', 2)
        >>> print(report.format())  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.errors: List[str] = []
        self.warnings: List[str] = []
        self.counts: Counter = Counter()

    @staticmethod
    def _where(path: str, line: Optional[int]) -> str:
        return f'{path}:{line}' if line is not None else str(path)

    def error(self, path: str, message: str, line: Optional[int] = None):
        """Record an error about ``path`` (and ``line``)."""
        self.errors.append(f'{self._where(path, line)}: {message}')

    def warn(self, path: str, message: str, line: Optional[int] = None):
        """Record a warning about ``path`` (and ``line``)."""
        self.warnings.append(f'{self._where(path, line)}: {message}')

    def add_exception(self, exc: Exception) -> None:
        """Record a reader error; its message already names the file."""
        self.errors.append(str(exc))

    def count(self, key: str, n: int = 1) -> None:
        """Count ``n`` items skipped or handled by design under ``key``."""
        if n:
            self.counts[key] += n

    @property
    def ok(self) -> bool:
        """bool: Whether no error was recorded."""
        return not self.errors

    def format(self, max_lines: int = 50) -> str:
        """Render the report as text, at most ``max_lines`` per section."""
        lines = [
            f'KITTI integrity: {len(self.errors)} error(s), '
            f'{len(self.warnings)} warning(s)'
        ]
        sections: Tuple = (('ERROR', self.errors), ('WARNING', self.warnings))
        for tag, items in sections:
            for item in items[:max_lines]:
                lines.append(f'  {tag} {item}')
            if len(items) > max_lines:
                lines.append(f'  ... {len(items) - max_lines} more {tag}s')
        for key, n in sorted(self.counts.items()):
            lines.append(f'  COUNT {key}: {n}')
        return '\n'.join(lines)

    def log(self, logger: str = 'current') -> None:
        """Print the report through the mmengine logger."""
        level = logging.ERROR if self.errors else (
            logging.WARNING if self.warnings else logging.INFO)
        print_log(self.format(), logger=logger, level=level)

    def raise_if_errors(self) -> None:
        """Raise :class:`KittiFormatError` listing every error.

        Raises:
            KittiFormatError: If any error was recorded.
        """
        if self.errors:
            raise KittiFormatError(self.format())
