from .kitti_io import (KittiFormatError, load_calib, load_poses, load_times,
                       load_velodyne, save_poses)
from .oxts_io import (OXTS_FIELDS, format_timestamp, list_oxts_files,
                      load_oxts_packets, load_oxts_timestamps, load_raw_calib,
                      load_raw_rigid, oxts_to_poses, save_oxts, save_raw_calib)
from .registration import PreparedScan, ScanRegistration, register_scans
from .se3 import (compose_relative, make_pose, pose_to_vector, relative_pose,
                  rotation_angle, se3_inverse, skew, so3_exp, so3_log)

__all__ = [
    'KittiFormatError', 'load_calib', 'load_poses', 'load_times',
    'load_velodyne', 'save_poses', 'OXTS_FIELDS', 'format_timestamp',
    'list_oxts_files', 'load_oxts_packets', 'load_oxts_timestamps',
    'load_raw_calib', 'load_raw_rigid', 'oxts_to_poses', 'save_oxts',
    'save_raw_calib', 'PreparedScan', 'ScanRegistration', 'register_scans',
    'compose_relative', 'make_pose', 'pose_to_vector', 'relative_pose',
    'rotation_angle', 'se3_inverse', 'skew', 'so3_exp', 'so3_log'
]
