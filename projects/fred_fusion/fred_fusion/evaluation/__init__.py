from .metrics import FREDCocoMetric

__all__ = ['FREDCocoMetric']
