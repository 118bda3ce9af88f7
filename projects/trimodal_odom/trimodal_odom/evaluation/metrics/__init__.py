from .kitti_odom_metric import KittiOdomMetric, constant_velocity, fixed_motion

__all__ = ['KittiOdomMetric', 'constant_velocity', 'fixed_motion']
