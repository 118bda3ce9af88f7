from .bev_pair_encoder import BEVPairEncoder
from .dummy_encoder import DummyEncoder
from .gru_imu_encoder import GRUIMUEncoder
from .image_pair_encoder import ImagePairEncoder
from .mlp_imu_encoder import MLPIMUEncoder
from .point_net_encoder import PointNetEncoder

__all__ = [
    'BEVPairEncoder', 'DummyEncoder', 'GRUIMUEncoder', 'ImagePairEncoder',
    'MLPIMUEncoder', 'PointNetEncoder'
]
