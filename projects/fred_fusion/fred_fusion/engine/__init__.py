from .hooks import DualModalYOLOXModeSwitchHook, FusionStatsHook

__all__ = ['FusionStatsHook', 'DualModalYOLOXModeSwitchHook']
