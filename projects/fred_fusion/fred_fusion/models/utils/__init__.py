from .ground_truth import pad_ground_truth

__all__ = ['pad_ground_truth']
