"""Shared framework code of the fusion projects.

Importing the package registers its hooks and the checkpoint loader fix
(see :mod:`mmfusion.engine.checkpoint_loader`); configs do it through
``custom_imports = dict(imports=['mmfusion'])``.
"""
from . import engine, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
