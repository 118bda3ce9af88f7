"""OpenCV's 8-bit BGR <-> HSV conversions and YOLOX's HSV shift, in torch.

``cv2.cvtColor`` on uint8 images uses integer tables for BGR -> HSV and a
float32 formula with truncation for HSV -> BGR (hue in ``[0, 180)``,
saturation and value in ``[0, 255]``). The functions below compute the
same numbers on tensors of any device, so that ``YOLOXHSVRandomAug`` can
run on a batch: over every 8-bit colour (BGR -> HSV) and every HSV triple
(HSV -> BGR) they give exactly what OpenCV 4.11 gives on x86 with AVX2,
whose vector path rounds ``1 - s * h`` once (a fused multiply-add; emulated
here in float64).

The tables are copied to a device once (no host synchronisation after the
first call).
"""
import functools

import numpy as np
import torch
from torch import Tensor

#: Fixed-point shift of OpenCV's BGR -> HSV tables.
_HSV_SHIFT = 12
#: Hue range of 8-bit HSV images.
HUE_RANGE = 180
#: Source channels of (b, g, r) for each hue sector: indices into
#: ``(v, v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f)))``.
_SECTORS = ((1, 3, 0), (1, 0, 2), (3, 0, 1), (0, 2, 1), (0, 1, 3), (2, 1, 0))


def _tables() -> Tensor:
    """OpenCV's ``sdiv_table`` and ``hdiv_table180``, (2, 256) int32."""
    i = np.arange(1, 256, dtype=np.float64)
    sdiv = np.rint((255 << _HSV_SHIFT) / i)
    hdiv = np.rint((HUE_RANGE << _HSV_SHIFT) / (6.0 * i))
    table = np.zeros((2, 256), np.int32)
    table[0, 1:] = sdiv
    table[1, 1:] = hdiv
    return torch.from_numpy(table)


@functools.lru_cache(maxsize=None)
def _device_tables(device: torch.device) -> Tensor:
    """The BGR -> HSV tables (2, 256) on ``device``."""
    return _tables().to(device)


def bgr_to_hsv_uint8(bgr: Tensor) -> Tensor:
    """``cv2.cvtColor(img, cv2.COLOR_BGR2HSV)`` of 8-bit images.

    Args:
        bgr (Tensor): (N, 3, H, W) integer tensor of values in ``[0, 255]``,
            channels in B, G, R order.

    Returns:
        Tensor: (N, 3, H, W) int32: hue in ``[0, 180)``, saturation and
        value in ``[0, 255]``.
    """
    x = bgr.to(torch.int32)
    b, g, r = x[:, 0], x[:, 1], x[:, 2]
    v = torch.maximum(torch.maximum(b, g), r)
    diff = v - torch.minimum(torch.minimum(b, g), r)
    tables = _device_tables(x.device)
    half = 1 << (_HSV_SHIFT - 1)
    s = (diff * tables[0][v] + half) >> _HSV_SHIFT
    h = torch.where(v == r, g - b,
                    torch.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * tables[1][diff] + half) >> _HSV_SHIFT
    h = torch.where(h < 0, h + HUE_RANGE, h)
    return torch.stack([h, s, v], dim=1)


def hsv_to_bgr_uint8(hsv: Tensor) -> Tensor:
    """``cv2.cvtColor(img, cv2.COLOR_HSV2BGR)`` of 8-bit images.

    Args:
        hsv (Tensor): (N, 3, H, W) integer tensor: hue in ``[0, 180)``,
            saturation and value in ``[0, 255]``.

    Returns:
        Tensor: (N, 3, H, W) int32 B, G, R values in ``[0, 255]``.
    """
    f32 = torch.float32
    # float32 of these Python numbers equals OpenCV's 6.0f / 180 etc.
    h = hsv[:, 0].to(f32) * (6.0 / HUE_RANGE)
    s = hsv[:, 1].to(f32) * (1.0 / 255.0)
    v = hsv[:, 2].to(f32) * (1.0 / 255.0)
    sector = torch.trunc(h)
    frac = h - sector
    sector = sector - torch.trunc(sector * (1.0 / 6.0)) * 6
    s64 = s.double()
    tab = (v, v * (1.0 - s), v * (1.0 - s64 * frac.double()).to(f32),
           v * (1.0 - s64 * (1.0 - frac).double()).to(f32))

    def pick(channel: int) -> Tensor:
        # tab[_SECTORS[sector][channel]], runs of equal entries merged
        out = tab[_SECTORS[5][channel]]
        for k in range(4, -1, -1):
            if _SECTORS[k][channel] != _SECTORS[k + 1][channel]:
                out = torch.where(sector <= k, tab[_SECTORS[k][channel]], out)
        return out

    bgr = torch.stack([pick(c) for c in range(3)], 1)
    return torch.trunc(bgr.mul_(255.0)).clamp_(0, 255).to(torch.int32)


def yolox_hsv_shift(bgr: Tensor, gains: Tensor) -> Tensor:
    """``YOLOXHSVRandomAug`` with given gains: shift hue (mod 180),
    saturation and value (clipped) in OpenCV's 8-bit HSV.

    Args:
        bgr (Tensor): (N, 3, H, W) integer tensor of values in ``[0, 255]``,
            B, G, R order.
        gains (Tensor): (N, 3) integer hue, saturation and value shifts.

    Returns:
        Tensor: (N, 3, H, W) int32 B, G, R values in ``[0, 255]``.
    """
    hsv = bgr_to_hsv_uint8(bgr)
    gains = gains.to(device=hsv.device, dtype=torch.int32).view(-1, 3, 1, 1)
    hsv = hsv + gains
    hsv[:, 0] = torch.remainder(hsv[:, 0], HUE_RANGE)
    hsv[:, 1:] = hsv[:, 1:].clamp(0, 255)
    return hsv_to_bgr_uint8(hsv)
