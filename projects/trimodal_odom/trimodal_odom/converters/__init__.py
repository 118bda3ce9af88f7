"""Offline conversion and checking of the KITTI odometry + raw layouts.

Used by ``tools/dataset_converters`` and ``tools/misc``; training, testing
and prediction do not import it.
"""
from .imu_resampling import imu_windows
from .imu_statistics import compute_imu_stats
from .kitti_drives import KITTI_ODOM_DRIVES, drive_dirs
from .kitti_imu_io import (KITTI_ODOM_TR, KITTI_T_VELO_IMU, kitti_imu_windows,
                           load_kitti_imu, resample_kitti_imu)
from .kitti_integrity import check_frame_files
from .kitti_odom_infos import (check_kitti_integrity, convert_sequence,
                               create_kitti_odom_infos, list_sequences)
from .reg_prior_cache_builder import (build_reg_prior_cache,
                                      registration_cfg_from_config)

__all__ = [
    'KITTI_ODOM_DRIVES', 'drive_dirs', 'imu_windows', 'compute_imu_stats',
    'check_frame_files', 'check_kitti_integrity', 'convert_sequence',
    'create_kitti_odom_infos', 'list_sequences', 'build_reg_prior_cache',
    'registration_cfg_from_config', 'KITTI_ODOM_TR', 'KITTI_T_VELO_IMU',
    'kitti_imu_windows', 'load_kitti_imu', 'resample_kitti_imu'
]
