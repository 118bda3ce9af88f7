from .hooks import FusionStatsHook

__all__ = ['FusionStatsHook']
