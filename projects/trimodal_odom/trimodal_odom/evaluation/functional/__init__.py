from .failure_stretches import condition_errors, frame_conditions
from .gate_plot import plot_gates
from .kitti_odom_eval import (KITTI_LENGTHS, segment_errors, summarize_errors,
                              trajectory_distances)
from .segment_error_plot import plot_segment_errors
from .trajectory_eval import (absolute_trajectory_error, relative_pose_error,
                              umeyama_alignment)
from .trajectory_metrics import combine_sequences, evaluate_trajectory
from .trajectory_plot import plot_trajectories

__all__ = [
    'KITTI_LENGTHS', 'segment_errors', 'summarize_errors',
    'trajectory_distances', 'absolute_trajectory_error', 'relative_pose_error',
    'umeyama_alignment', 'plot_trajectories', 'evaluate_trajectory',
    'combine_sequences', 'plot_segment_errors', 'frame_conditions',
    'condition_errors', 'plot_gates'
]
