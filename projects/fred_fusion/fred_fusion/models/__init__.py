from .data_preprocessors import (DualModalBatchSyncRandomResize,
                                 DualModalDetDataPreprocessor)
from .dense_heads import BatchedYOLOXHead
from .detectors import DualStreamYOLOX
from .discriminators import PairDiscriminator
from .necks import FusionNeck
from .task_modules import BatchSimOTAAssigner
from .weight_init import StreamPretrainedInit

__all__ = [
    'DualModalDetDataPreprocessor', 'DualModalBatchSyncRandomResize',
    'DualStreamYOLOX', 'FusionNeck', 'PairDiscriminator', 'BatchedYOLOXHead',
    'BatchSimOTAAssigner', 'StreamPretrainedInit'
]
