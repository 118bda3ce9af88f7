from .dual_stream_yolox import DualStreamYOLOX

__all__ = ['DualStreamYOLOX']
