"""Camera + IMU + LiDAR odometry on KITTI, registered into mmdet3d's
registries.

Importing the package loads nothing else, so that e.g. the odometry metric
(``evaluation``) is imported without the models. The runtime subpackages
(:data:`RUNTIME_PACKAGES`) register the dataset, transforms, models, hooks
and metric (``evaluation.metrics``: ``evaluation`` itself is the array
code of the metric, which tools import without torch); configs name them
in ``custom_imports`` (see
``configs/trimodal_odom/_base_/default_runtime.py``), code calls
:func:`register_all_modules`. ``converters`` (info files, IMU resampling
and statistics, integrity checks, used by ``tools/dataset_converters`` and
``tools/misc``) and ``testing`` (the sample generator) are imported only
by those who need them.
"""
import importlib

#: Subpackages that training, testing and prediction import.
RUNTIME_PACKAGES = ('datasets', 'engine', 'evaluation.metrics', 'models')


def register_all_modules() -> None:
    """Import every runtime subpackage, registering its modules."""
    for name in RUNTIME_PACKAGES:
        importlib.import_module(f'{__name__}.{name}')


__all__ = ['RUNTIME_PACKAGES', 'register_all_modules']
