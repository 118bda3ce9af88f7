from .event_cache import EventCacheReader, decode_event_frame
from .fred_classes import FRED_CLASSES
from .fred_data_error import DataProblem, FREDDataError
from .fred_dataset import FREDDataset
from .fusion_stats import format_fusion_stats
from .modal_stack_collate import modal_stack_collate
from .multi_modal_mix_dataset import MultiModalMixDataset
from .transforms import (EventDropout, EventNoise, EventPolaritySwap,
                         LoadFREDImages, PackDualModalInputs, RGBOnly,
                         SyncTransform)

__all__ = [
    'FRED_CLASSES', 'DataProblem', 'FREDDataError', 'FREDDataset',
    'format_fusion_stats', 'MultiModalMixDataset', 'LoadFREDImages',
    'SyncTransform', 'RGBOnly', 'PackDualModalInputs', 'EventPolaritySwap',
    'EventNoise', 'EventDropout', 'EventCacheReader', 'decode_event_frame',
    'modal_stack_collate'
]
