from .functional import (KITTI_LENGTHS, absolute_trajectory_error,
                         plot_trajectories, relative_pose_error,
                         segment_errors, summarize_errors,
                         trajectory_distances, umeyama_alignment)
from .metrics import KittiOdomMetric, constant_velocity

__all__ = [
    'KITTI_LENGTHS', 'segment_errors', 'summarize_errors',
    'trajectory_distances', 'absolute_trajectory_error', 'relative_pose_error',
    'umeyama_alignment', 'plot_trajectories', 'KittiOdomMetric',
    'constant_velocity'
]
