from .kitti_odom_eval import (KITTI_LENGTHS, segment_errors, summarize_errors,
                              trajectory_distances)
from .trajectory_eval import (absolute_trajectory_error, relative_pose_error,
                              umeyama_alignment)
from .trajectory_plot import plot_trajectories

__all__ = [
    'KITTI_LENGTHS', 'segment_errors', 'summarize_errors',
    'trajectory_distances', 'absolute_trajectory_error', 'relative_pose_error',
    'umeyama_alignment', 'plot_trajectories'
]
