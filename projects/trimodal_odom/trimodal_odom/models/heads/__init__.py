from .pose_regression_head import PoseRegressionHead

__all__ = ['PoseRegressionHead']
