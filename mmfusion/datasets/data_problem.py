"""One problem found in a data file."""
from typing import NamedTuple, Optional


class DataProblem(NamedTuple):
    """A problem of a data file: what kind, where, and what is wrong.

    Args:
        kind (str): Short machine-readable category, e.g.
            ``'malformed_line'`` or ``'missing_file'``; reports count
            problems by kind (and converters that skip bad items count the
            skips by it).
        file (str): Path of the offending file (or folder).
        message (str): What is wrong, for humans.
        line (int, optional): 1-based line number in ``file`` where there
            is one. Defaults to None.

    Example:
        >>> print(DataProblem('malformed_line', 'seq/times.txt',
        ...                   "not a number: 'abc'", 3))
        seq/times.txt:3: not a number: 'abc' [malformed_line]
    """

    kind: str
    file: str
    message: str
    line: Optional[int] = None

    @property
    def where(self) -> str:
        """str: ``file`` or ``file:line``."""
        return self.file if self.line is None else f'{self.file}:{self.line}'

    def __str__(self) -> str:
        return f'{self.where}: {self.message} [{self.kind}]'
