"""Offline conversion and checking of the released FRED layout.

Used by ``tools/dataset_converters`` and ``tools/misc``; training, testing
and prediction do not import it.
"""
from .event_cache_builder import (cache_sequence, encode_event_frame,
                                  find_event_frame_dirs)
from .fred_annotation import (CLASS_MODES, FREDBox, ParsedCoordinates,
                              RefusedLine, parse_coordinates)
from .fred_conversion import (FATAL_PROBLEMS, SPLIT_SETS, convert_split,
                              convert_splits, format_split_stats,
                              read_split_file)
from .fred_pairing import drop_refused_frames, pair_sequence
from .fred_sequence_scan import scan_sequence
from .image_probe import probe_image

__all__ = [
    'CLASS_MODES', 'FREDBox', 'ParsedCoordinates', 'RefusedLine',
    'parse_coordinates', 'FATAL_PROBLEMS', 'SPLIT_SETS', 'convert_split',
    'convert_splits', 'format_split_stats', 'read_split_file', 'pair_sequence',
    'drop_refused_frames', 'scan_sequence', 'probe_image', 'cache_sequence',
    'encode_event_frame', 'find_event_frame_dirs'
]
