from .fusion_stats_hook import FusionStatsHook

__all__ = ['FusionStatsHook']
