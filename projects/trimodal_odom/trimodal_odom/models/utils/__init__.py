from .layers import linear_relu_stack, masked_max
from .so3_torch import (axis_angle_to_matrix, pose_vector_to_matrix,
                        rotation_geodesic_angle)

__all__ = [
    'axis_angle_to_matrix', 'pose_vector_to_matrix', 'rotation_geodesic_angle',
    'linear_relu_stack', 'masked_max'
]
