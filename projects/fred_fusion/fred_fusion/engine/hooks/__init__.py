from .dual_modal_yolox_mode_switch_hook import DualModalYOLOXModeSwitchHook
from .fusion_stats_hook import FusionStatsHook

__all__ = ['FusionStatsHook', 'DualModalYOLOXModeSwitchHook']
