"""Generated KITTI odometry samples (with raw OXTS) in the released
layouts, for tests and demos (as ``mmdet.testing``); training, testing and
prediction do not import it.

:func:`generate_kitti_sample` (:mod:`.kitti_sample`) renders a static
scene (:mod:`.synthetic_scene`) along real KITTI trajectories for the
camera and the LiDAR, simulates the OXTS packets of the same motion
(:mod:`.synthetic_imu`) and marks the sample complete with its stamp
(:mod:`.stamps`). :func:`generate_hard_sample` (:mod:`.hard_sample`) writes
the same layouts with an HDL-64E-like swept LiDAR (:mod:`.swept_lidar`),
moving cars (:mod:`.moving_cars`) and stretches where each sensor fails
(:mod:`.sensor_failures`).
"""
from .hard_sample import HARD_PRESETS, generate_hard_sample
from .kitti_sample import generate_kitti_sample
from .stamps import STAMP_NAME, complete_sample, read_sample_stamp

__all__ = [
    'generate_kitti_sample', 'generate_hard_sample', 'HARD_PRESETS',
    'read_sample_stamp', 'complete_sample', 'STAMP_NAME'
]
