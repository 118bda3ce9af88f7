from .kitti_io import (KittiFormatError, kitti_error, kitti_report, load_calib,
                       load_poses, load_times, load_velodyne, save_poses)
from .registration import PreparedScan, ScanRegistration, register_scans
from .se3 import (compose_relative, integrate_gyro, make_pose, pose_to_vector,
                  relative_pose, rotation_angle, se3_inverse, skew, so3_exp,
                  so3_log)

__all__ = [
    'KittiFormatError', 'kitti_error', 'kitti_report', 'load_calib',
    'load_poses', 'load_times', 'load_velodyne', 'save_poses', 'PreparedScan',
    'ScanRegistration', 'register_scans', 'compose_relative', 'make_pose',
    'pose_to_vector', 'relative_pose', 'rotation_angle', 'se3_inverse', 'skew',
    'so3_exp', 'so3_log', 'integrate_gyro'
]
