from .geodesic_rotation_loss import GeodesicRotationLoss

__all__ = ['GeodesicRotationLoss']
