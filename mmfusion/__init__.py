"""Shared framework code of the fusion projects.

Importing the package itself loads nothing else, so that light modules
(:mod:`mmfusion.utils`, :mod:`mmfusion.datasets`) stay cheap to import.
``mmfusion.engine`` registers the hooks, the optimizer wrappers and the
checkpoint loader fix (see :mod:`mmfusion.engine.checkpoint_loader`);
configs import it through ``custom_imports = dict(imports=[
'mmfusion.engine'])``.
"""
from .version import __version__

__all__ = ['__version__']
