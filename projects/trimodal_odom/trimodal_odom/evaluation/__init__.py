"""KITTI odometry evaluation.

:mod:`.functional` is the arithmetic on trajectory arrays (the KITTI
devkit's segment errors, ATE, RPE, plots); importing this package loads
only it, without torch or mmengine's evaluator, so that
``tools/analysis_tools/eval_kitti_odom.py`` starts in a fraction of a
second. :mod:`.metrics` holds :class:`KittiOdomMetric`, registered when
``evaluation.metrics`` is imported (the runtime subpackage that the configs'
``custom_imports`` name, see ``RUNTIME_PACKAGES``).
"""
from .functional import (KITTI_LENGTHS, absolute_trajectory_error,
                         combine_sequences, evaluate_trajectory,
                         plot_segment_errors, plot_trajectories,
                         relative_pose_error, segment_errors, summarize_errors,
                         trajectory_distances, umeyama_alignment)

__all__ = [
    'KITTI_LENGTHS', 'segment_errors', 'summarize_errors',
    'trajectory_distances', 'absolute_trajectory_error', 'relative_pose_error',
    'umeyama_alignment', 'plot_trajectories', 'evaluate_trajectory',
    'combine_sequences', 'plot_segment_errors'
]
