from .odometry_data_sample import OdometryDataSample

__all__ = ['OdometryDataSample']
