from .loading import LoadOdomImages, LoadOdomPoints
from .normalize_odom_imu import NormalizeOdomIMU
from .odom_global_yaw_rotation import (OdomGlobalYawRotation,
                                       rotate_relative_pose, yaw_matrix)
from .odom_image_quality import (IMAGE_QUALITY_NAMES, OdomImageQuality,
                                 image_quality)
from .odom_photometric_jitter import OdomPhotoMetricJitter
from .odom_scan_registration import OdomScanRegistration
from .pack_odom_inputs import PackOdomInputs
from .point_transforms import (OdomPointDropout, OdomPointSample,
                               OdomPointsRangeFilter)

__all__ = [
    'LoadOdomImages', 'LoadOdomPoints', 'NormalizeOdomIMU',
    'IMAGE_QUALITY_NAMES', 'OdomImageQuality', 'image_quality',
    'OdomGlobalYawRotation', 'rotate_relative_pose', 'yaw_matrix',
    'OdomPhotoMetricJitter', 'OdomScanRegistration', 'PackOdomInputs',
    'OdomPointDropout', 'OdomPointSample', 'OdomPointsRangeFilter'
]
