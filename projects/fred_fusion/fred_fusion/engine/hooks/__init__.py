# Copyright (c) OpenMMLab. All rights reserved.
from .fusion_stats_hook import FusionStatsHook

__all__ = ['FusionStatsHook']
