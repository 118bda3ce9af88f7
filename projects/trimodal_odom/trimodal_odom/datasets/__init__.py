from .kitti_odometry_dataset import KittiOdometryDataset
from .odom_collate import odom_collate
from .odom_info_file import INFO_VERSION, info_file_name, parse_sequences
from .reg_prior_cache import RegPriorCache, reg_prior_file_name
from .transforms import (LoadOdomImages, LoadOdomPoints, NormalizeOdomIMU,
                         OdomGlobalYawRotation, OdomPhotoMetricJitter,
                         OdomPointDropout, OdomPointSample,
                         OdomPointsRangeFilter, OdomScanRegistration,
                         PackOdomInputs, rotate_relative_pose, yaw_matrix)

__all__ = [
    'KittiOdometryDataset', 'odom_collate', 'INFO_VERSION', 'info_file_name',
    'parse_sequences', 'LoadOdomImages', 'LoadOdomPoints', 'NormalizeOdomIMU',
    'RegPriorCache', 'reg_prior_file_name', 'OdomGlobalYawRotation',
    'OdomPhotoMetricJitter', 'OdomPointDropout', 'OdomScanRegistration',
    'OdomPointSample', 'OdomPointsRangeFilter', 'PackOdomInputs',
    'rotate_relative_pose', 'yaw_matrix'
]
