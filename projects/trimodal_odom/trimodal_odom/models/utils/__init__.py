from .so3_torch import (axis_angle_to_matrix, pose_vector_to_matrix,
                        rotation_geodesic_angle)

__all__ = [
    'axis_angle_to_matrix', 'pose_vector_to_matrix', 'rotation_geodesic_angle'
]
