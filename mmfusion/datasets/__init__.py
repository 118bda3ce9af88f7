"""Data problems and their reports, shared by the projects' readers,
converters and integrity checks."""
from .data_problem import DataProblem
from .data_report import DataError, DataReport, format_problems

__all__ = ['DataProblem', 'DataError', 'DataReport', 'format_problems']
