# Copyright (c) OpenMMLab. All rights reserved.
"""Multi-image mixing dataset wrapper aware of transform wrappers."""
from typing import Sequence

from mmdet.datasets import MultiImageMixDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class MultiModalMixDataset(MultiImageMixDataset):
    """``MultiImageMixDataset`` that sees through transform wrappers.

    mmdet's wrapper skips transforms by their config ``type`` (e.g.
    ``YOLOXModeSwitchHook`` skips ``'Mosaic'``, ``'RandomAffine'`` and
    ``'MixUp'`` in the last epochs). Here a wrapper such as
    ``dict(type='SyncTransform', transform=dict(type='Mosaic'))`` is known
    by the wrapped type ``'Mosaic'``, so skip lists keep working.

    Args:
        dataset (BaseDataset | dict): The dataset to mix from.
        pipeline (Sequence[dict]): Transform configs.
        **kwargs: Other arguments of ``MultiImageMixDataset``.
    """

    def __init__(self, dataset, pipeline: Sequence[dict], **kwargs) -> None:
        super().__init__(dataset, pipeline, **kwargs)
        self.pipeline_types = [
            self._type_of(transform) for transform in pipeline
        ]

    @staticmethod
    def _type_of(cfg: dict) -> str:
        while isinstance(cfg.get('transform'), dict):
            cfg = cfg['transform']
        return cfg['type']
