"""Data problems and their reports, shared by the projects' readers,
converters and integrity checks, and the strict image decoder."""
from .data_problem import DataProblem
from .data_report import DataError, DataReport, format_problems
from .image_decoder import (ImageDecodeError, decode_image, has_end_marker,
                            verify_image)

__all__ = [
    'DataProblem', 'DataError', 'DataReport', 'format_problems',
    'ImageDecodeError', 'decode_image', 'has_end_marker', 'verify_image'
]
