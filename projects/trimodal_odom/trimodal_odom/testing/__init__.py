"""Generated KITTI odometry samples (with raw OXTS) in the released
layouts, for tests and demos (as ``mmdet.testing``); training, testing and
prediction do not import it.
"""
from .kitti_sample import generate_kitti_sample, read_sample_stamp

__all__ = ['generate_kitti_sample', 'read_sample_stamp']
