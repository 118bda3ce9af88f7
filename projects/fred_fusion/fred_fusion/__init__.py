"""RGB + event drone detection on FRED, registered into mmdet's registries.

Importing the package loads nothing else. The runtime subpackages
(:data:`RUNTIME_PACKAGES`) register the datasets, transforms, models,
hooks, metric and visualizer: configs name them in ``custom_imports`` (see
``configs/fred_fusion/_base_/default_runtime.py``), code calls
:func:`register_all_modules`. ``converters`` (conversion and integrity
checks, used by ``tools/dataset_converters`` and ``tools/misc``) and
``testing`` (the sample generator) are imported only by those who need
them.
"""
import importlib

#: Subpackages that training, testing and prediction import.
RUNTIME_PACKAGES = ('datasets', 'engine', 'evaluation', 'models',
                    'visualization')


def register_all_modules() -> None:
    """Import every runtime subpackage, registering its modules."""
    for name in RUNTIME_PACKAGES:
        importlib.import_module(f'{__name__}.{name}')


__all__ = ['RUNTIME_PACKAGES', 'register_all_modules']
