from .odometry_data_preprocessor import OdometryDataPreprocessor

__all__ = ['OdometryDataPreprocessor']
