"""Offline conversion and checking of the KITTI odometry + raw layouts.

Used by ``tools/dataset_converters`` and ``tools/misc``; training, testing
and prediction do not import it.
"""
from .kitti_odom_infos import (KITTI_ODOM_DRIVES, check_kitti_integrity,
                               compute_imu_stats, convert_sequence,
                               create_kitti_odom_infos, parse_sequences)

__all__ = [
    'KITTI_ODOM_DRIVES', 'check_kitti_integrity', 'compute_imu_stats',
    'convert_sequence', 'create_kitti_odom_infos', 'parse_sequences'
]
