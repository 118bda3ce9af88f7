"""Generated FRED samples in the released layout, for tests and demos
(as ``mmdet.testing``); training, testing and prediction do not import it.
"""
from .fred_sample import (build_fred_manifest, generate_fred_sample,
                          rgb_file_name)

__all__ = ['generate_fred_sample', 'build_fred_manifest', 'rgb_file_name']
