from .geodesic_rotation_loss import GeodesicRotationLoss
from .photometric_reprojection_loss import PhotometricReprojectionLoss

__all__ = ['GeodesicRotationLoss', 'PhotometricReprojectionLoss']
