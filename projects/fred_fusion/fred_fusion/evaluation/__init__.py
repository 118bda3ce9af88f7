from .chunked_coco_eval import ChunkedCOCOeval
from .compact_detections import ChunkedRows, CompactDetections
from .metrics import FREDCocoMetric

__all__ = [
    'FREDCocoMetric', 'ChunkedCOCOeval', 'CompactDetections', 'ChunkedRows'
]
