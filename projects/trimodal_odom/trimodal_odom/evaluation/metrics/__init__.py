from .kitti_odom_metric import KittiOdomMetric, constant_velocity

__all__ = ['KittiOdomMetric', 'constant_velocity']
