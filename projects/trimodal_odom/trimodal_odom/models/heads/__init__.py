from .pose_regression_head import PoseRegressionHead
from .prior_residual_pose_head import PriorResidualPoseHead

__all__ = ['PoseRegressionHead', 'PriorResidualPoseHead']
