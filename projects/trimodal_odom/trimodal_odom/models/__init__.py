from .backbones import LightConvNet
from .data_preprocessors import OdometryDataPreprocessor
from .encoders import (DummyEncoder, GRUIMUEncoder, ImagePairEncoder,
                       MLPIMUEncoder, PointNetEncoder)
from .fusion_layers import (BaseOdomFusion, ConcatFusion, PointGateFusion,
                            QualityGateFusion, SoftGateFusion)
from .heads import PoseRegressionHead
from .losses import GeodesicRotationLoss
from .odometers import TrimodalOdometry
from .utils import (axis_angle_to_matrix, pose_vector_to_matrix,
                    rotation_geodesic_angle)

__all__ = [
    'LightConvNet', 'OdometryDataPreprocessor', 'DummyEncoder',
    'GRUIMUEncoder', 'ImagePairEncoder', 'MLPIMUEncoder', 'PointNetEncoder',
    'BaseOdomFusion', 'ConcatFusion', 'PointGateFusion', 'QualityGateFusion',
    'SoftGateFusion', 'PoseRegressionHead', 'GeodesicRotationLoss',
    'TrimodalOdometry', 'axis_angle_to_matrix', 'pose_vector_to_matrix',
    'rotation_geodesic_angle'
]
