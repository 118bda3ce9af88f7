from .batched_yolox_head import BatchedYOLOXHead

__all__ = ['BatchedYOLOXHead']
