"""The error FRED readers and converters raise (with the shared
:class:`~mmfusion.datasets.DataProblem` record of its problems)."""
from mmfusion.datasets import DataError, DataProblem


class FREDDataError(DataError):
    """FRED files are missing, corrupt or malformed.

    Args:
        problems (DataProblem | Sequence[DataProblem]): The problems, each
            naming its file (and line where there is one); see
            :class:`mmfusion.datasets.DataError`.
    """

    dataset = 'FRED'


__all__ = ['DataProblem', 'FREDDataError']
