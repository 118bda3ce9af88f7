from .fred_coco_metric import FREDCocoMetric

__all__ = ['FREDCocoMetric']
