from .dual_modal_batch_sync_random_resize import DualModalBatchSyncRandomResize
from .dual_modal_batch_yolox_augment import DualModalBatchYOLOXAugment
from .dual_modal_det_data_preprocessor import DualModalDetDataPreprocessor

__all__ = [
    'DualModalDetDataPreprocessor', 'DualModalBatchSyncRandomResize',
    'DualModalBatchYOLOXAugment'
]
