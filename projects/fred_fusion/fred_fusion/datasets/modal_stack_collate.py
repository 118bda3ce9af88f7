"""Collate samples keyed by modality into one tensor per modality."""
from typing import Sequence

import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def modal_stack_collate(data_batch: Sequence[dict]) -> dict:
    """``pseudo_collate``, with each modality's frames stacked.

    ``inputs`` of a sample are a dict of (C, H, W) tensors keyed by modality
    (``PackDualModalInputs``). Where all frames of a modality have one
    shape they become one (N, C, H, W) tensor, which the dataloader pins
    (``pin_memory=True``) and the data preprocessor copies to the device in
    one transfer; otherwise they stay a list, as ``pseudo_collate`` leaves
    them. ``data_samples`` stay a list.

    Args:
        data_batch (Sequence[dict]): Samples from the dataset.

    Returns:
        dict: The batch: ``inputs`` (dict of (N, C, H, W) tensors or lists)
        and ``data_samples``.
    """
    batch = pseudo_collate(data_batch)
    inputs = batch.get('inputs')
    if isinstance(inputs, dict):
        for modality, frames in inputs.items():
            if frames and len({tuple(f.shape) for f in frames}) == 1:
                inputs[modality] = torch.stack(frames)
    return batch
