from .data_preprocessors import (DualModalBatchSyncRandomResize,
                                 DualModalBatchYOLOXAugment,
                                 DualModalDetDataPreprocessor)
from .dense_heads import BatchedYOLOXHead
from .detectors import DualStreamYOLOX
from .discriminators import PairDiscriminator
from .layers import ForeachExpMomentumEMA
from .necks import FusionNeck
from .task_modules import BatchSimOTAAssigner
from .weight_init import StreamPretrainedInit

__all__ = [
    'DualModalDetDataPreprocessor', 'DualModalBatchSyncRandomResize',
    'DualStreamYOLOX', 'FusionNeck', 'PairDiscriminator', 'BatchedYOLOXHead',
    'BatchSimOTAAssigner', 'DualModalBatchYOLOXAugment',
    'ForeachExpMomentumEMA', 'StreamPretrainedInit'
]
