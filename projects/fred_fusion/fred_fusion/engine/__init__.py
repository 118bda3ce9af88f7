# Copyright (c) OpenMMLab. All rights reserved.
from .hooks import FusionStatsHook

__all__ = ['FusionStatsHook']
