"""Small building blocks shared by the encoders and the pose head."""
from typing import Sequence, Tuple

import torch
from torch import Tensor, nn


def linear_relu_stack(in_channels: int,
                      channels: Sequence[int]) -> Tuple[nn.Sequential, int]:
    """``Linear -> ReLU`` layers of the given widths.

    Args:
        in_channels (int): Input size.
        channels (Sequence[int]): Output size of each layer; empty gives
            an identity.

    Returns:
        tuple[nn.Sequential, int]: The layers and their output size.
    """
    layers = []
    for c_out in channels:
        layers += [nn.Linear(in_channels, c_out), nn.ReLU(inplace=True)]
        in_channels = c_out
    return nn.Sequential(*layers), in_channels


def masked_max(x: Tensor, mask: Tensor, dim: int) -> Tensor:
    """Maximum of ``x`` over ``dim`` among the elements where ``mask`` is
    True; zero where no element is valid.

    Args:
        x (Tensor): Features.
        mask (Tensor): Bool mask broadcastable to ``x``.
        dim (int): Dimension to reduce.

    Returns:
        Tensor: ``x`` reduced over ``dim``.
    """
    peak = x.masked_fill(~mask, float('-inf')).amax(dim)
    return torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
