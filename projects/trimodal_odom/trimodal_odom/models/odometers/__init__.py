from .trimodal_odometry import TrimodalOdometry

__all__ = ['TrimodalOdometry']
