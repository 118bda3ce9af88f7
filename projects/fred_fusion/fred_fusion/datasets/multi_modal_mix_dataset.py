"""Multi-image mixing dataset wrapper aware of transform wrappers."""
import collections.abc
from typing import Any, Dict, List, Sequence

from mmdet.datasets import MultiImageMixDataset
from mmdet.registry import DATASETS

from .transforms.copying import IMAGE_KEYS, copy_results


class _ProbedSamples:
    """View of a dataset that keeps the samples ``get_indexes`` loads.

    mmdet's ``MixUp.get_indexes`` loads ``dataset[index]`` to check that
    the partner has boxes; the wrapper then loads the same index again as
    the partner. Through this view the probed sample is kept and handed out
    once by :meth:`take` instead of being loaded (and decoded) twice.

    Args:
        dataset: The wrapped dataset.
    """

    def __init__(self, dataset) -> None:
        self.dataset = dataset
        self.loaded: Dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        if idx not in self.loaded:
            self.loaded[idx] = self.dataset[idx]
        return self.loaded[idx]

    def __getattr__(self, name: str) -> Any:
        if name in ('dataset', 'loaded'):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def take(self, idx: int) -> dict:
        """The sample ``idx``: the probed one the first time, else loaded.

        Args:
            idx (int): Index in the dataset.

        Returns:
            dict: The sample.
        """
        sample = self.loaded.pop(idx, None)
        return self.dataset[idx] if sample is None else sample


@DATASETS.register_module()
class MultiModalMixDataset(MultiImageMixDataset):
    """``MultiImageMixDataset`` that sees through transform wrappers.

    mmdet's wrapper skips transforms by their config ``type`` (e.g.
    ``YOLOXModeSwitchHook`` skips ``'Mosaic'``, ``'RandomAffine'`` and
    ``'MixUp'`` in the last epochs). Here a wrapper such as
    ``dict(type='SyncTransform', transform=dict(type='Mosaic'))`` is known
    by the wrapped type ``'Mosaic'``, so skip lists keep working.

    The samples run through the same transforms, with the same random draws,
    as in ``MultiImageMixDataset``, with less copying and loading:

    - The dataset's samples are used as returned: ``BaseDataset`` builds a
      new dict and decodes new images on every call.
    - Before each transform (kept for a retry when it returns None) the
      result dict is deep-copied except for its image arrays (``img``,
      ``event_img``, also of ``mix_results``), which transforms replace
      rather than write into (see :func:`copy_results`).
    - A partner that ``get_indexes`` loaded to inspect it (MixUp checks
      for boxes) is used as it is instead of being loaded a second time.
      This assumes, like the check itself, that loading is deterministic.

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

    def _partners(self, transform) -> List[dict]:
        """Load the partner samples a multi-image transform asks for."""
        for _ in range(self.max_refetch):
            samples = _ProbedSamples(self.dataset)
            indexes = transform.get_indexes(samples)
            if not isinstance(indexes, collections.abc.Sequence):
                indexes = [indexes]
            partners = [samples.take(index) for index in indexes]
            if None not in partners:
                return partners
        raise RuntimeError(
            'The loading pipeline of the original dataset always returns '
            'None. Please check the correctness of the dataset and its '
            'pipeline.')

    def __getitem__(self, idx: int) -> dict:
        """Load sample ``idx`` and run the mixing pipeline on it.

        Args:
            idx (int): Index in the dataset.

        Returns:
            dict: The transformed sample.
        """
        results = self.dataset[idx]
        for transform, transform_type in zip(self.pipeline,
                                             self.pipeline_types):
            if (self._skip_type_keys is not None
                    and transform_type in self._skip_type_keys):
                continue
            if hasattr(transform, 'get_indexes'):
                results['mix_results'] = self._partners(transform)
            for _ in range(self.max_refetch):
                updated = transform(copy_results(results, IMAGE_KEYS))
                if updated is not None:
                    results = updated
                    break
            else:
                raise RuntimeError(
                    'The training pipeline of the dataset wrapper always '
                    'returns None. Please check the correctness of the '
                    'dataset and its pipeline.')
            results.pop('mix_results', None)
        return results
