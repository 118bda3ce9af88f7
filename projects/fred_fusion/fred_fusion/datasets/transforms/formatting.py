"""Packing of RGB + event samples for the detector."""
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS


def _to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim < 3:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackDualModalInputs(PackDetInputs):
    """Pack the frames of the sample's modalities and its annotations.

    ``inputs`` becomes a dict keyed by modality: ``{'rgb': (3, H, W)}``,
    ``{'event': (3, H, W)}`` or both, uint8 tensors in BGR order as loaded.
    ``data_samples`` is a :class:`mmdet.structures.DetDataSample` with
    ``gt_instances`` (``bboxes``, ``labels``) and the meta keys, exactly as
    :class:`mmdet.datasets.transforms.PackDetInputs` builds it.

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample's
            metainfo when present. Defaults to ``('img_id', 'img_path',
            'event_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
            'flip_direction', 'pad_shape', 'paired', 'time_diff')``.
        **kwargs: Other arguments of ``PackDetInputs``.
    """

    def __init__(self,
                 meta_keys=('img_id', 'img_path', 'event_path', 'ori_shape',
                            'img_shape', 'scale_factor', 'flip',
                            'flip_direction', 'pad_shape', 'paired',
                            'time_diff'),
                 **kwargs) -> None:
        super().__init__(meta_keys=meta_keys, **kwargs)

    def transform(self, results: dict) -> dict:
        """Pack the sample.

        Args:
            results (dict): Result dict with ``img``, ``modality`` and, for
                dual samples, ``event_img``.

        Returns:
            dict: ``inputs`` (dict of modality -> uint8 Tensor (3, H, W))
            and ``data_samples`` (DetDataSample).
        """
        modality = results.get('modality', 'rgb')
        packed = super().transform(results)
        first = packed['inputs']
        if modality == 'event':
            packed['inputs'] = dict(event=first)
        elif modality == 'rgb':
            packed['inputs'] = dict(rgb=first)
        else:
            event = results['event_img']
            if event.shape[:2] != results['img'].shape[:2]:
                raise RuntimeError(
                    f'{results.get("img_path")}: RGB shape '
                    f'{results["img"].shape} and event shape {event.shape} '
                    'differ after the pipeline; wrap geometric transforms '
                    'in SyncTransform')
            packed['inputs'] = dict(rgb=first, event=_to_chw_tensor(event))
        return packed
