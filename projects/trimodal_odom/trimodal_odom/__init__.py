"""Camera + IMU + LiDAR odometry on KITTI.

Import through a config: ``custom_imports = dict(imports=[
'projects.trimodal_odom.trimodal_odom'])``.
"""
from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
