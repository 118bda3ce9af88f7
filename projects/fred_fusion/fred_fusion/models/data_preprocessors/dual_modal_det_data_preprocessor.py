"""Normalise, pad and batch the images of several modalities at once."""
import math
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.models.utils.misc import samplelist_boxtype2tensor
from mmdet.registry import MODELS
from mmengine.model.utils import stack_batch
from torch import Tensor, nn

from .dual_modal_batch_sync_random_resize import DualModalBatchSyncRandomResize

PerModality = Union[None, bool, Sequence[Number], Dict[str, object]]


def _per_modality(value: PerModality, modalities: Sequence[str],
                  name: str) -> dict:
    """Expand a shared setting, or pick the used modalities from a dict
    keyed by modality (extra keys are ignored)."""
    if isinstance(value, dict):
        missing = [m for m in modalities if m not in value]
        if missing:
            raise KeyError(f'{name} has no setting for modality {missing}; '
                           f'it has {sorted(value)}')
        return {m: value[m] for m in modalities}
    return {m: value for m in modalities}


@MODELS.register_module()
class DualModalDetDataPreprocessor(DetDataPreprocessor):
    """Detection data preprocessor for inputs keyed by modality.

    The packed inputs of each sample are a dict such as
    ``{'rgb': (3, H, W) uint8, 'event': (3, H, W) uint8}``. Each modality
    is converted BGR -> RGB (if asked), normalised with its own mean and
    std, padded to the batch shape (multiple of ``pad_size_divisor``) and
    stacked; all modalities of a sample must have the same image shape, so
    the batches share one shape and the box annotations fit all of them.
    Modalities of the inputs that the model does not use are dropped.
    Batch augmentations must accept dict inputs (e.g.
    :class:`DualModalBatchSyncRandomResize`).

    In training, ``raw_batch_augments`` run first, on the raw pixels as
    collated (e.g. :class:`DualModalBatchYOLOXAugment`, which needs the
    pad value 114 in pixel space and returns uint8 frames); they get the
    frames on the device and the samples as collated (on the host), and
    return both on the device; then the
    frames are normalised and padded, then ``batch_augments`` run (the
    multi-scale resize). Inputs stacked as (N, C, H, W) tensors (e.g. by
    ``modal_stack_collate``) are normalised as one tensor.

    Args:
        modalities (Sequence[str]): Modalities fed to the model, in order.
            Defaults to ``('rgb', 'event')``.
        mean (Sequence[Number] or dict, optional): Pixel mean, shared or
            ``{modality: mean}`` (keys of unused modalities are ignored).
            None (also per modality) disables normalisation.
            Defaults to None.
        std (Sequence[Number] or dict, optional): Pixel std, as ``mean``.
            Defaults to None.
        bgr_to_rgb (bool or dict): Swap the channel order, shared or per
            modality. Defaults to False.
        pad_size_divisor (int): Padded height and width are multiples of
            it. Defaults to 1.
        pad_value (Number): Value of the padded pixels (after
            normalisation). Defaults to 0.
        boxtype2tensor (bool): Convert box structures to tensors.
            Defaults to True.
        non_blocking (bool): Non-blocking host-to-device copies.
            Defaults to False.
        batch_augments (list[dict], optional): Batch augmentations applied
            in training after normalisation. Defaults to None.
        raw_batch_augments (list[dict], optional): Batch augmentations
            applied in training to the raw frames, before the channel swap
            and normalisation. Each is called as ``aug(inputs,
            data_samples)`` with the frames keyed by modality. Defaults to
            None.
    """

    def __init__(self,
                 modalities: Sequence[str] = ('rgb', 'event'),
                 mean: PerModality = None,
                 std: PerModality = None,
                 bgr_to_rgb: PerModality = False,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 boxtype2tensor: bool = True,
                 non_blocking: Optional[bool] = False,
                 batch_augments: Optional[List[dict]] = None,
                 raw_batch_augments: Optional[List[dict]] = None) -> None:
        super().__init__(
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            boxtype2tensor=boxtype2tensor,
            non_blocking=non_blocking,
            batch_augments=batch_augments)
        if isinstance(modalities, str) or len(modalities) == 0:
            raise ValueError('modalities must be a non-empty sequence of '
                             f'names, got {modalities!r}')
        self.modalities = tuple(modalities)
        means = _per_modality(mean, self.modalities, 'mean')
        stds = _per_modality(std, self.modalities, 'std')
        self.bgr_to_rgb = _per_modality(bgr_to_rgb, self.modalities,
                                        'bgr_to_rgb')
        self.normalize = {}
        for m in self.modalities:
            if (means[m] is None) != (stds[m] is None):
                raise ValueError(f'mean and std of modality {m!r} must be '
                                 'both set or both None')
            self.normalize[m] = means[m] is not None
            if self.normalize[m]:
                self.register_buffer(f'{m}_mean',
                                     torch.tensor(means[m]).view(-1, 1, 1),
                                     False)
                self.register_buffer(f'{m}_std',
                                     torch.tensor(stds[m]).view(-1, 1, 1),
                                     False)
        for aug in self.batch_augments or []:
            if not isinstance(aug, DualModalBatchSyncRandomResize):
                raise TypeError(
                    f'{type(aug).__name__} resizes a single image tensor; '
                    'use a batch augmentation that accepts inputs keyed by '
                    'modality, e.g. DualModalBatchSyncRandomResize')
        self.raw_batch_augments = nn.ModuleList(
            [MODELS.build(aug)
             for aug in raw_batch_augments]) if raw_batch_augments else None

    def update_skip_type_keys(self, skip_type_keys: Sequence[str]) -> None:
        """Skip steps of the raw batch augmentations by type (as
        ``YOLOXModeSwitchHook`` does with the dataset's pipeline).

        Args:
            skip_type_keys (Sequence[str]): Types of the steps to skip.
        """
        for aug in self.raw_batch_augments or []:
            if hasattr(aug, 'update_skip_type_keys'):
                aug.update_skip_type_keys(skip_type_keys)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise, pad and stack each modality; augment the batch.

        Args:
            data (dict): Collated data: ``inputs`` a dict of lists of
                (3, H, W) tensors (or of (N, 3, H, W) tensors) keyed by
                modality, ``data_samples`` a list of DetDataSample.
            training (bool): Whether to apply the batch augmentations.

        Returns:
            dict: ``inputs`` a dict of (N, 3, H, W) float tensors keyed by
            modality and ``data_samples`` with ``batch_input_shape`` and
            ``pad_shape`` set.
        """
        augment_raw = training and self.raw_batch_augments is not None
        if augment_raw:
            # Only the frames go to the device: the raw batch augmentation
            # reads the boxes of all samples on the host, moves them in one
            # copy and returns the samples on the device (one small copy
            # per tensor of every sample, and mmengine's copy of every
            # sample, would cost more host time than the augmentation).
            data = dict(data, inputs=self.cast_data(data.get('inputs')))
        else:
            data = self.cast_data(data)
        raw = self._check_inputs(data.get('inputs'))
        data_samples = data.get('data_samples')
        if augment_raw:
            for batch_aug in self.raw_batch_augments:
                raw, data_samples = batch_aug(raw, data_samples)
        batch_pad_shape = self._get_pad_shape(
            {'inputs': raw[self.modalities[0]]})
        inputs = {m: self._batch_modality(m, raw[m]) for m in self.modalities}

        if data_samples is not None:
            batch_input_shape = tuple(inputs[self.modalities[0]].shape[-2:])
            for data_sample, pad_shape in zip(data_samples, batch_pad_shape):
                data_sample.set_metainfo({
                    'batch_input_shape': batch_input_shape,
                    'pad_shape': pad_shape
                })
            if self.boxtype2tensor:
                samplelist_boxtype2tensor(data_samples)

        if training and self.batch_augments is not None:
            for batch_aug in self.batch_augments:
                inputs, data_samples = batch_aug(inputs, data_samples)
        return {'inputs': inputs, 'data_samples': data_samples}

    def _batch_modality(self, modality: str,
                        imgs: Union[Tensor, List[Tensor]]) -> Tensor:
        """Channel swap, normalisation, padding and stacking of one
        modality: frames (N, C, H, W) at once, a list frame by frame."""
        if isinstance(imgs, Tensor):
            imgs = self._normalise(modality, imgs)
            d = self.pad_size_divisor
            pad_h, pad_w = -imgs.shape[-2] % d, -imgs.shape[-1] % d
            if pad_h or pad_w:
                imgs = F.pad(imgs, (0, pad_w, 0, pad_h), value=self.pad_value)
            return imgs
        return stack_batch([self._normalise(modality, img) for img in imgs],
                           self.pad_size_divisor, self.pad_value)

    def _normalise(self, modality: str, imgs: Tensor) -> Tensor:
        """Channel swap and normalisation of (..., C, H, W) frames."""
        if self.bgr_to_rgb[modality]:
            imgs = imgs[..., [2, 1, 0], :, :]
        imgs = imgs.float()
        if self.normalize[modality]:
            imgs = (imgs - getattr(self, f'{modality}_mean')) / getattr(
                self, f'{modality}_std')
        return imgs

    def _check_inputs(self, inputs: object
                      ) -> Dict[str, Union[Tensor, List[Tensor]]]:
        """Check the collated inputs; raise an error naming the problem.

        Returns:
            dict: Per modality, the (N, C, H, W) tensor as collated, or the
            list of (C, H, W) tensors.
        """
        if not isinstance(inputs, dict):
            raise TypeError(
                f'{type(self).__name__} expects inputs keyed by modality '
                f'({list(self.modalities)}), got {type(inputs).__name__}')
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'modality {missing} missing from the inputs, '
                           f'which have {sorted(inputs)}')
        first = self.modalities[0]
        num = len(inputs[first])
        for m in self.modalities:
            imgs = inputs[m]
            if len(imgs) != num:
                raise ValueError(f'{len(imgs)} {m!r} images but {num} '
                                 f'{first!r} images in the batch')
            # a stacked batch is checked once, not image by image (each
            # image of a tensor would be one more operator to dispatch)
            stacked = isinstance(imgs, Tensor)
            if stacked and imgs.dim() != 4:
                raise ValueError(f'{m!r} images must be (N, C, H, W), got '
                                 f'{tuple(imgs.shape)}')
            for i, img in enumerate([imgs[0]] if stacked and num else imgs):
                if not isinstance(img, Tensor) or img.dim() != 3:
                    shape = getattr(img, 'shape', type(img).__name__)
                    raise ValueError(f'{m!r} image {i} must be a (C, H, W) '
                                     f'tensor, got {shape}')
                if (self.normalize[m]
                        and img.size(0) != getattr(self, f'{m}_mean').size(0)):
                    raise ValueError(
                        f'{m!r} image {i} has {img.size(0)} channels, its '
                        f'mean has {getattr(self, f"{m}_mean").size(0)}')
            sizes = self._image_sizes(imgs)
            ref = self._image_sizes(inputs[first])
            for i, (size, ref_size) in enumerate(zip(sizes, ref)):
                if size != ref_size:
                    raise ValueError(
                        f'sample {i}: {m!r} image {size} and {first!r} '
                        f'image {ref_size} differ in size; the '
                        'pipeline must give all modalities the same size')
        return {
            m: inputs[m] if isinstance(inputs[m], Tensor) else list(inputs[m])
            for m in self.modalities
        }

    @staticmethod
    def _image_sizes(imgs: Union[Tensor, List[Tensor]]) -> List[tuple]:
        """(H, W) of each image of one modality."""
        if isinstance(imgs, Tensor):
            return [tuple(imgs.shape[-2:])] * len(imgs)
        return [tuple(img.shape[-2:]) for img in imgs]

    def _get_pad_shape(self, data: dict) -> List[Tuple[int, int]]:
        """Padded (H, W) of each image of one modality."""
        d = self.pad_size_divisor
        return [(int(math.ceil(h / d)) * d, int(math.ceil(w / d)) * d)
                for h, w in self._image_sizes(data['inputs'])]
