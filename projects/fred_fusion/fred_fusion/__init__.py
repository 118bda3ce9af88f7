"""RGB + event drone detection on FRED, registered into mmdet's registries.

Import through a config: ``custom_imports = dict(imports=[
'projects.fred_fusion.fred_fusion'])``.
"""
from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .visualization import *  # noqa: F401,F403
