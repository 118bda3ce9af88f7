from .event_cache import (EventCacheReader, cache_sequence, decode_event_frame,
                          encode_event_frame)
from .fred_annotation import CLASS_MODES, FREDBox, parse_coordinates
from .fred_classes import FRED_CLASSES
from .fred_conversion import (SPLIT_SETS, convert_split, format_split_stats,
                              read_split_file)
from .fred_data_error import DataProblem, FREDDataError
from .fred_dataset import FREDDataset
from .fred_pairing import pair_sequence
from .fred_sequence_scan import scan_sequence
from .fusion_stats import format_fusion_stats
from .image_probe import probe_image
from .modal_stack_collate import modal_stack_collate
from .multi_modal_mix_dataset import MultiModalMixDataset
from .synthetic import build_fred_manifest, generate_fred_sample
from .transforms import (EventDropout, EventNoise, EventPolaritySwap,
                         LoadFREDImages, PackDualModalInputs, RGBOnly,
                         SyncTransform)

__all__ = [
    'FRED_CLASSES', 'CLASS_MODES', 'FREDBox', 'parse_coordinates',
    'SPLIT_SETS', 'convert_split', 'format_split_stats', 'read_split_file',
    'DataProblem', 'FREDDataError', 'FREDDataset', 'pair_sequence',
    'scan_sequence', 'format_fusion_stats', 'probe_image',
    'MultiModalMixDataset', 'LoadFREDImages', 'SyncTransform', 'RGBOnly',
    'PackDualModalInputs', 'EventPolaritySwap', 'EventNoise', 'EventDropout',
    'generate_fred_sample', 'build_fred_manifest', 'EventCacheReader',
    'cache_sequence', 'encode_event_frame', 'decode_event_frame',
    'modal_stack_collate'
]
