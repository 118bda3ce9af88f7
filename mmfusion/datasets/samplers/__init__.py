"""Batch samplers (import torch and mmengine's registries: imported by
:mod:`mmfusion.engine`, not by :mod:`mmfusion.datasets`)."""
from .resumable_batch_sampler import ResumableBatchSampler, SeededBatch

__all__ = ['ResumableBatchSampler', 'SeededBatch']
