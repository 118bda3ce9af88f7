"""Problems found in FRED data and the error that reports them."""
from typing import NamedTuple, Optional, Sequence


class DataProblem(NamedTuple):
    """One problem found in a FRED file.

    Args:
        reason (str): Short machine-readable category, e.g.
            ``'malformed_line'`` or ``'unreadable_frame'``. Used as the key
            of the skip counters.
        file (str): Path of the offending file.
        message (str): What is wrong, for humans.
        line (int, optional): 1-based line number in ``file`` where there
            is one. Defaults to None.
    """

    reason: str
    file: str
    message: str
    line: Optional[int] = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f'{self.file}:{self.line}'
        return f'{where}: {self.message} [{self.reason}]'


class FREDDataError(ValueError):
    """Raised when FRED files are missing, corrupt or malformed.

    Args:
        problems (Sequence[DataProblem]): The problems, each naming its file
            (and line where there is one).
    """

    def __init__(self, problems: Sequence[DataProblem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f'... and {len(self.problems) - 20} more')
        super().__init__(f'{len(self.problems)} problem(s) in FRED data:\n' +
                         '\n'.join(lines))
