from .integrity_report import IntegrityReport
from .kitti_odom_infos import (KITTI_ODOM_DRIVES, check_kitti_integrity,
                               compute_imu_stats, convert_sequence,
                               create_kitti_odom_infos, parse_sequences)
from .kitti_odometry_dataset import KittiOdometryDataset
from .odom_collate import odom_collate
from .reg_prior_cache import RegPriorCache, reg_prior_file_name
from .reg_prior_cache_builder import build_reg_prior_cache
from .synthetic import generate_kitti_sample
from .transforms import (LoadOdomImages, LoadOdomPoints, NormalizeOdomIMU,
                         OdomGlobalYawRotation, OdomPhotoMetricJitter,
                         OdomPointDropout, OdomPointSample,
                         OdomPointsRangeFilter, OdomScanRegistration,
                         PackOdomInputs, rotate_relative_pose, yaw_matrix)

__all__ = [
    'IntegrityReport', 'KITTI_ODOM_DRIVES', 'check_kitti_integrity',
    'compute_imu_stats', 'convert_sequence', 'create_kitti_odom_infos',
    'parse_sequences', 'KittiOdometryDataset', 'odom_collate', 'RegPriorCache',
    'reg_prior_file_name', 'build_reg_prior_cache', 'generate_kitti_sample',
    'LoadOdomImages', 'LoadOdomPoints', 'NormalizeOdomIMU',
    'OdomGlobalYawRotation', 'OdomPhotoMetricJitter', 'OdomPointDropout',
    'OdomScanRegistration', 'OdomPointSample', 'OdomPointsRangeFilter',
    'PackOdomInputs', 'rotate_relative_pose', 'yaw_matrix'
]
