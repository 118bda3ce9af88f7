from .base_odom_fusion import BaseOdomFusion
from .concat_fusion import ConcatFusion
from .point_gate_fusion import PointGateFusion
from .quality_gate_fusion import QualityGateFusion
from .soft_gate_fusion import SoftGateFusion

__all__ = [
    'BaseOdomFusion', 'ConcatFusion', 'PointGateFusion', 'QualityGateFusion',
    'SoftGateFusion'
]
