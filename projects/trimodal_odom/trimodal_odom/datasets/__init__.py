from .integrity_report import IntegrityReport
from .kitti_odometry_dataset import KittiOdometryDataset
from .odom_collate import odom_collate
from .transforms import (LoadOdomImages, LoadOdomPoints, NormalizeOdomIMU,
                         OdomGlobalYawRotation, OdomPhotoMetricJitter,
                         OdomPointDropout, OdomPointSample,
                         OdomPointsRangeFilter, OdomScanRegistration,
                         PackOdomInputs, rotate_relative_pose, yaw_matrix)

__all__ = [
    'IntegrityReport', 'KittiOdometryDataset', 'odom_collate',
    'LoadOdomImages', 'LoadOdomPoints', 'NormalizeOdomIMU',
    'OdomGlobalYawRotation', 'OdomPhotoMetricJitter', 'OdomPointDropout',
    'OdomScanRegistration', 'OdomPointSample', 'OdomPointsRangeFilter',
    'PackOdomInputs', 'rotate_relative_pose', 'yaw_matrix'
]
