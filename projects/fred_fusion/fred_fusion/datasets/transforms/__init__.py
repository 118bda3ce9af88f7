from .event_augment import EventDropout, EventNoise, EventPolaritySwap
from .formatting import PackDualModalInputs
from .loading import LoadFREDImages
from .wrappers import RGBOnly, SyncTransform

__all__ = [
    'LoadFREDImages', 'SyncTransform', 'RGBOnly', 'PackDualModalInputs',
    'EventPolaritySwap', 'EventNoise', 'EventDropout'
]
