"""YOLOX's training augmentation for a whole batch, on the batch's device.

:class:`DualModalBatchYOLOXAugment` does for a batch of raw frames what the
CPU pipeline of ``configs/fred_fusion/_base_/datasets/fred_sample.py`` does
sample by sample: mmdet 3.3's ``Mosaic``, ``RandomAffine``, ``MixUp``,
``YOLOXHSVRandomAug``, ``RandomFlip``, ``Resize``, ``Pad`` and
``FilterAnnotations``, in this order, geometry identical for every
modality, the photometric step on RGB only. It is configured with the same
transform dicts as that pipeline; they are built as the stock mmdet
transforms, so their defaults and argument checks are mmdet's, and their
settings are read from them.

What is the same as on the CPU:

- every random parameter is drawn from the distribution mmdet draws it
  from (Mosaic centre, RandomAffine rotation / scale / shear / translation,
  MixUp jitter / flip / crop offset, the HSV gains and their on / off
  choice, the flip), per sample, from torch's generator on the device
  (``torch.manual_seed``, as set by mmengine's ``randomness.seed``; the
  ranks of a distributed run draw different parameters);
- the geometry: OpenCV's pixel conventions (``cv2.warpPerspective`` maps
  pixel indices through the matrix, ``cv2.resize`` pixel centres), the
  integer sizes and offsets mmdet computes (``int()`` of the Mosaic centre
  and tile sizes, MixUp's ``randint`` crop offsets, ``mmcv.rescale_size``);
- the boxes, transformed and filtered step by step exactly as mmdet does:
  Mosaic's tile scale and placement, clipping to the 2x canvas and
  ``is_inside``; the RandomAffine corner projection, clipping and
  ``is_inside``; MixUp's box scaling, clip / flip / crop and ``is_inside``
  over all boxes, skipped when the partner has no boxes; flip, resize and
  its clipping; ``FilterAnnotations(min_gt_bbox_wh)`` (strictly larger).
  mmdet 3.3's ``RandomAffine`` and ``MixUp`` have no ``min_bbox_size`` /
  ``min_area_ratio`` / ``max_aspect_ratio`` filters (mmdet 2.x had them),
  so there are none here either;
- the pixel values: uint8 rounding after each warp, ``0.5 * a + 0.5 * b``
  truncated for MixUp, OpenCV's 8-bit HSV (hue mod 180, see
  :mod:`.hsv_uint8`), the pad value 114 (HSV touches the RandomAffine
  border, as on the CPU, but not the ``Pad`` margin).

What differs by design:

- Mosaic's three partners and MixUp's partner are other samples of the
  batch (drawn uniformly among them; MixUp retries up to ``max_iters``
  draws for a partner with boxes, as mmdet retries dataset indices),
  instead of random dataset samples; MixUp's partner is a raw sample, as
  in mmdet;
- one bilinear resampling per output pixel instead of one per step: the
  output pixel is mapped through pad, resize, flip, the affine matrix and
  the Mosaic tile placement back to a pixel of a raw frame and sampled
  there (``grid_sample``, all frames of the batch in one call), and once
  more for MixUp's partner. Sharper than the chain of warps, and no 2x
  canvas is built. Within a pixel of a Mosaic seam the two tiles are not
  blended as OpenCV blends them;
- ``Mosaic(prob < 1)`` is refused (a batch needs one output size) and so
  is ``FilterAnnotations(keep_empty=True)`` (a batch cannot drop or refetch
  a sample; in ``MultiImageMixDataset`` it stops training).

There are no Python loops over samples in the tensor work and one host
synchronisation per batch (the kept box counts and the flips, read at the
end to give each sample its own boxes and ``flip``), none with
``padded_gt=True`` (every sample keeps all box slots of the batch and a
``valid`` mask, and ``flip`` stays on the device): host values (the sizes,
the box counts) go to the device with non-blocking copies.

Why not kornia: ``kornia.augmentation.RandomMosaic`` / ``RandomMixUpV2`` /
``RandomAffine`` draw their parameters from other distributions and have
none of YOLOX's box rules (tile scale ``min(H / h, W / w)``, clip and
``is_inside``, MixUp's crop of the jittered canvas), and their
``kornia.color`` HSV is float HSV in radians, not OpenCV's 8-bit one; the
warps themselves are ``grid_sample``, which is called here directly on the
composed map.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS, TRANSFORMS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes, get_box_tensor
from mmengine.dist import get_dist_info
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ..utils import pad_ground_truth
from .hsv_uint8 import yolox_hsv_shift

#: The steps, in the order they run (that of the CPU pipeline).
STEPS = ('Mosaic', 'RandomAffine', 'MixUp', 'YOLOXHSVRandomAug', 'RandomFlip',
         'Resize', 'Pad', 'FilterAnnotations')

# Columns of the (N, K) uniform draws; every parameter has its column
# whether or not its step runs, so that skipping a step leaves the others'
# draws unchanged.
_CENTER_X, _CENTER_Y = 0, 1
_MOSAIC_PARTNERS = slice(2, 5)
_ROTATE, _SCALE, _SHEAR_X, _SHEAR_Y, _SHIFT_X, _SHIFT_Y = range(5, 11)
_JITTER, _MIX_FLIP, _MIX_X, _MIX_Y = range(11, 15)
_HSV_GAINS = slice(15, 18)
_HSV_ON = slice(18, 21)
_FLIP = 21
_MIX_PARTNERS = 22

Size = Tuple[int, int]


def _to_device(values: list, dtype: torch.dtype, device) -> Tensor:
    """A tensor of host values on ``device``, copied without waiting for
    the device (``torch.tensor(..., device=cuda)`` synchronises)."""
    return torch.tensor(values, dtype=dtype).to(device, non_blocking=True)


def _uniform(u: Tensor, low: float, high: float) -> Tensor:
    """``random.uniform(low, high)`` from uniform [0, 1) draws ``u``."""
    return low + (high - low) * u


def _matrices(n: int, device, **entries: Tensor) -> Tensor:
    """(n, 3, 3) float64 identities with entries set, e.g. ``a02=t``."""
    m = torch.eye(3, dtype=torch.float64, device=device).repeat(n, 1, 1)
    for key, value in entries.items():
        m[:, int(key[1]), int(key[2])] = value
    return m


def _invert_affine(m: Tensor) -> Tensor:
    """Inverse of (N, 3, 3) affine matrices (last row 0, 0, 1), without
    the error check (a host synchronisation) of ``torch.linalg.inv``."""
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    d, e, f = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    det = a * e - b * d
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return _matrices(
        m.shape[0],
        m.device,
        a00=ia,
        a01=ib,
        a02=-(ia * c + ib * f),
        a10=id_,
        a11=ie,
        a12=-(id_ * c + ie * f))


def _map_pixels(m: Tensor, height: int, width: int) -> Tuple[Tensor, Tensor]:
    """Where the pixels of a (height, width) image go through the affine
    matrices ``m`` (N, 3, 3): two (N, height, width) float32 maps."""
    n, device = m.shape[0], m.device
    coef = m[:, :2].float().reshape(n, 6, 1, 1).unbind(1)
    xs = torch.arange(width, dtype=torch.float32, device=device).view(1, 1, -1)
    ys = torch.arange(
        height, dtype=torch.float32, device=device).view(1, -1, 1)
    return (coef[0] * xs + coef[1] * ys + coef[2],
            coef[3] * xs + coef[4] * ys + coef[5])


def _clip(boxes: Tensor, height: Tensor, width: Tensor) -> Tensor:
    """``HorizontalBoxes.clip_`` with per-sample (N, 1) sizes."""
    x = torch.minimum(boxes[..., 0::2].clamp(min=0), width[..., None])
    y = torch.minimum(boxes[..., 1::2].clamp(min=0), height[..., None])
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)


def _is_inside(boxes: Tensor, height: Tensor, width: Tensor) -> Tensor:
    """``HorizontalBoxes.is_inside`` with per-sample (N, 1) sizes."""
    return ((boxes[..., 0] < width) & (boxes[..., 1] < height) &
            (boxes[..., 2] > 0) & (boxes[..., 3] > 0))


def _flip_x(boxes: Tensor, width: Tensor, flip: Tensor) -> Tensor:
    """Horizontal ``flip_`` of the boxes of samples where ``flip``."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    flipped = torch.stack([width - x2, y1, width - x1, y2], -1)
    return torch.where(flip[:, None, None], flipped, boxes)


def _pad_value(value: Union[float, Sequence[float]], channels: int,
               device) -> Tensor:
    """A pad value of 3-channel images as (channels, ) float32 values."""
    if isinstance(value, (int, float)):
        values = (float(value), ) * channels
    else:
        values = tuple(float(v) for v in value)
        if len(values) != 3 or channels % 3:
            raise ValueError(f'per-channel pad values need 3-channel '
                             f'modalities, got {values} for {channels} '
                             'channels')
        values = values * (channels // 3)
    return _to_device(values, torch.float32, device)


@MODELS.register_module()
class DualModalBatchYOLOXAugment(nn.Module):
    """Mosaic, RandomAffine, MixUp, HSV, flip, resize, pad and box filter
    of YOLOX for a batch of raw frames keyed by modality.

    Runs in :class:`DualModalDetDataPreprocessor` (``raw_batch_augments``)
    on the uint8 frames, before the channel swap and normalisation. Each
    sample needs its frames (any size, all modalities of a sample alike)
    and ``gt_instances`` (``bboxes``, ``labels``) in the pixels of those
    frames; see the module docstring for what matches mmdet's CPU
    transforms and what does not.

    Args:
        transforms (Sequence[dict]): Configs of mmdet transforms, a subset
            of :data:`STEPS` in that order, e.g. the train pipeline of the
            CPU path without its ``SyncTransform`` / ``RGBOnly`` wrappers.
        photometric_modalities (Sequence[str]): Modalities that
            ``YOLOXHSVRandomAug`` changes (3-channel BGR frames).
            Defaults to ``('rgb', )``.
        skip_type_keys (Sequence[str], optional): Steps not to run, by
            type, e.g. ``('Mosaic', 'RandomAffine', 'MixUp')`` (what
            ``YOLOXModeSwitchHook`` skips). Defaults to None.
        padded_gt (bool): Give every sample all G box slots of the batch
            (G, the batch's box capacity, is the same for every sample)
            instead of its kept boxes only, so that nothing is read on the
            host: ``gt_instances`` has ``bboxes`` (G, 4), ``labels`` (G, )
            and a bool ``valid`` (G, ) marking the real boxes (kept boxes
            first, in the order of the unpadded mode; the other slots are
            zero), views of the batch tensors; ``ignored_instances`` stays
            empty. The meta ``flip`` is then a 0-dim bool tensor on the
            device, and ``flip_direction`` is ``'horizontal'`` whenever
            RandomFlip runs (``flip`` tells whether the sample was
            flipped). For heads that read ``valid``
            (:class:`BatchedYOLOXHead`, through :func:`pad_ground_truth`);
            a stock mmdet head would take the padding slots for boxes, so
            it is off by default. Defaults to False.
    """

    def __init__(self,
                 transforms: Sequence[dict],
                 photometric_modalities: Sequence[str] = ('rgb', ),
                 skip_type_keys: Optional[Sequence[str]] = None,
                 padded_gt: bool = False) -> None:
        super().__init__()
        self.padded_gt = bool(padded_gt)
        self.transforms = {}
        last = -1
        for cfg in transforms:
            name = cfg.get('type')
            if name not in STEPS or STEPS.index(name) <= last:
                raise ValueError(
                    f'{type(self).__name__} runs {list(STEPS)} in this '
                    f'order (each at most once); got {name!r} after '
                    f'{list(self.transforms)}')
            last = STEPS.index(name)
            self.transforms[name] = TRANSFORMS.build(cfg)
        self._check_settings()
        self.photometric_modalities = tuple(photometric_modalities)
        self.skip_type_keys: Tuple[str, ...] = ()
        self.update_skip_type_keys(skip_type_keys)

    def _check_settings(self) -> None:
        """Refuse the settings of the stock transforms not done here."""
        t = self.transforms
        problems = []
        if 'Mosaic' in t and t['Mosaic'].prob != 1.0:
            problems.append('Mosaic(prob < 1) would give the batch samples '
                            'of two sizes')
        flip = t.get('RandomFlip')
        if flip is not None and (flip.direction != 'horizontal'
                                 or not isinstance(flip.prob, float)):
            problems.append('RandomFlip flips horizontally with one '
                            'probability only')
        resize = t.get('Resize')
        if resize is not None and (resize.scale is None
                                   or resize.interpolation != 'bilinear'):
            problems.append('Resize needs a scale and bilinear '
                            'interpolation')
        if 'Pad' in t and t['Pad'].padding_mode != 'constant':
            problems.append('Pad pads with a constant only')
        filt = t.get('FilterAnnotations')
        if filt is not None and (filt.by_mask or filt.keep_empty):
            problems.append(
                'FilterAnnotations filters boxes (by_box) with '
                'keep_empty=False only: a batch cannot drop or refetch a '
                'sample')
        if problems:
            raise ValueError(f'{type(self).__name__}: ' + '; '.join(problems))

    def update_skip_type_keys(self,
                              skip_type_keys: Optional[Sequence[str]]) -> None:
        """Set the steps not to run (as ``MultiImageMixDataset``).

        Args:
            skip_type_keys (Sequence[str], optional): Step types to skip.
        """
        keys = tuple(skip_type_keys or ())
        unknown = [k for k in keys if k not in STEPS]
        if unknown:
            raise ValueError(f'unknown step(s) {unknown} to skip; the steps '
                             f'are {list(STEPS)}')
        self.skip_type_keys = keys

    def _on(self, name: str) -> bool:
        return name in self.transforms and name not in self.skip_type_keys

    @property
    def num_draws(self) -> int:
        """Uniform draws per sample (columns of the parameter draw)."""
        mixup = self.transforms.get('MixUp')
        return _MIX_PARTNERS + (mixup.max_iters if mixup else 0)

    def forward(
        self, inputs: Dict[str, Union[Tensor, List[Tensor]]],
        data_samples: List[DetDataSample]
    ) -> Tuple[Dict[str, Tensor], List[DetDataSample]]:
        """Augment the batch.

        Args:
            inputs (dict[str, Tensor | list[Tensor]]): Raw frames keyed by
                modality: (N, C, H, W) tensors, each sample's frame in the
                top-left ``img_shape`` of its slot, or lists of (C, h, w)
                tensors; uint8 values (any dtype).
            data_samples (list[DetDataSample]): The samples, with
                ``gt_instances``.

        Returns:
            tuple: The augmented frames keyed by modality, (N, C, H', W')
            uint8 tensors, and the samples with new ``gt_instances`` (with
            ``padded_gt``, all slots of the batch and ``valid``) and an
            empty ``ignored_instances``, if they had one, on the frames'
            device, and
            ``img_shape``, ``scale_factor``, ``flip``, ``flip_direction``.
        """
        if not data_samples:
            raise ValueError(f'{type(self).__name__} needs the data samples '
                             '(their boxes) of the batch')
        x, in_sizes, channels = self._stack(inputs, data_samples)
        n, device = x.shape[0], x.device
        raw = self._ground_truth(data_samples, device)
        # every rank of a distributed run draws for the whole global batch
        # (the generators stay in step) and uses its own rows
        rank, world_size = get_dist_info()
        u = torch.rand(
            world_size * n, self.num_draws, dtype=torch.float64,
            device=device)[rank * n:(rank + 1) * n]
        sizes = self._sizes(in_sizes)
        # per-sample sizes (h, w) of the input, of RandomAffine's output
        # (S2) and of Resize's output (S3), (N, ) float64 each
        sz = dict(
            zip(('in_h', 'in_w', 's2h', 's2w', 's3h', 's3w'),
                _to_device([s[0] + s[2] + s[3] for s in sizes], torch.float64,
                           device).unbind(1)))
        flip = (
            u[:, _FLIP] < self.transforms['RandomFlip'].prob
            if self._on('RandomFlip') else torch.zeros(
                n, dtype=torch.bool, device=device))
        to_s2 = self._output_to_s2(sz, flip)
        src, tile, boxes, labels, valid = self._mosaic(u, sz, *raw)
        affine, boxes, valid = self._affine(u, sz, boxes, valid)
        big, fill = self._source_image(x, in_sizes)
        out_size = (max(s[4][0] for s in sizes), max(s[4][1] for s in sizes))
        img = self._warp(big, fill,
                         _invert_affine(affine) @ to_s2, src, tile, sz,
                         out_size)
        if self._on('MixUp'):
            img, boxes, labels, valid = self._mixup(u, big, fill, img, to_s2,
                                                    sz, raw, boxes, labels,
                                                    valid)
        if self._on('YOLOXHSVRandomAug'):
            img = self._hsv(u, img, channels)
        img = self._pad(img, sz, fill)
        boxes, valid = self._flip_resize_filter(boxes, valid, flip, sz)
        out = {
            m: img[:, sl].to(torch.uint8).contiguous()
            for m, sl in channels.items()
        }
        return out, self._pack(data_samples, boxes, labels, valid, flip, sizes)

    # ----------------------------------------------------------------- input
    def _stack(
        self, inputs: Dict[str, Union[Tensor, List[Tensor]]],
        data_samples: List[DetDataSample]
    ) -> Tuple[Tensor, List[Size], Dict[str, slice]]:
        """All modalities in one (N, C, H, W) tensor, the frame sizes and
        each modality's channels."""
        if not isinstance(inputs, dict) or not inputs:
            raise TypeError(f'{type(self).__name__} expects a non-empty dict '
                            'of frames keyed by modality')
        parts, channels, sizes = [], {}, None
        for m, frames in inputs.items():
            if isinstance(frames, Tensor):
                if frames.dim() != 4:
                    raise ValueError(f'{m!r} frames must be (N, C, H, W), '
                                     f'got {tuple(frames.shape)}')
                batch = frames
                shapes = [
                    tuple(ds.metainfo.get('img_shape', frames.shape[-2:]))
                    for ds in data_samples
                ]
            else:
                shapes = [tuple(f.shape[-2:]) for f in frames]
                batch = frames[0].new_zeros(
                    (len(frames), frames[0].shape[0],
                     max(s[0] for s in shapes), max(s[1] for s in shapes)))
                for i, f in enumerate(frames):
                    batch[i, :, :f.shape[-2], :f.shape[-1]] = f
            if len(batch) != len(data_samples):
                raise ValueError(f'{len(batch)} {m!r} frames but '
                                 f'{len(data_samples)} data samples')
            for i, (h, w) in enumerate(shapes):
                if h > batch.shape[-2] or w > batch.shape[-1]:
                    raise ValueError(
                        f'sample {i} ({data_samples[i].get("img_path")}): '
                        f'img_shape {(h, w)} exceeds its {m!r} frame '
                        f'{tuple(batch.shape[-2:])}')
            if sizes is None:
                sizes, first = shapes, batch
            elif shapes != sizes or batch.shape[-2:] != first.shape[-2:]:
                raise ValueError(f'{m!r} frames differ in size from those '
                                 f'of {list(channels)}; every modality of a '
                                 'sample must have the same size')
            start = sum(p.shape[1] for p in parts)
            channels[m] = slice(start, start + batch.shape[1])
            parts.append(batch)
        if self._on('YOLOXHSVRandomAug'):
            for m in self.photometric_modalities:
                if m in channels and channels[m].stop - channels[m].start != 3:
                    raise ValueError(f'YOLOXHSVRandomAug needs 3-channel BGR '
                                     f'{m!r} frames')
        x = parts[0] if len(parts) == 1 else torch.cat(parts, 1)
        return x, [(int(h), int(w)) for h, w in sizes], channels

    def _ground_truth(self, data_samples: List[DetDataSample],
                      device) -> Tuple[Tensor, Tensor, Tensor]:
        """Boxes (N, M, 4), labels (N, M) and validity (N, M), padded on
        the samples' device (the host, from the data preprocessor) and moved
        to ``device`` in one copy each."""
        for i, ds in enumerate(data_samples):
            ignored = ds.get('ignored_instances')
            if ignored is not None and len(ignored):
                raise ValueError(
                    f'sample {i} ({ds.get("img_path")}) has {len(ignored)} '
                    f'ignored instances; {type(self).__name__} carries '
                    'gt_instances only')
        gts = [ds.gt_instances for ds in data_samples]
        host = get_box_tensor(gts[0].bboxes).device
        return tuple(
            t.to(device, non_blocking=True)
            for t in pad_ground_truth(gts, torch.float32, host))

    def _sizes(self, in_sizes: List[Size]) -> List[Tuple[Size, ...]]:
        """Per sample: the (h, w) of the input and after Mosaic,
        RandomAffine, Resize and Pad, as mmdet computes them."""
        t = self.transforms
        rows = []
        for i, size in enumerate(in_sizes):
            s1 = size
            if self._on('Mosaic'):
                w, h = t['Mosaic'].img_scale
                s1 = (2 * h, 2 * w)
            s2 = s1
            if self._on('RandomAffine'):
                bw, bh = t['RandomAffine'].border
                s2 = (s1[0] + 2 * bh, s1[1] + 2 * bw)
                if min(s2) <= 0:
                    raise ValueError(
                        f'sample {i}: RandomAffine(border={(bw, bh)}) of a '
                        f'{s1} image leaves {s2}; its border is meant for '
                        'the Mosaic canvas')
            s3 = s2
            if self._on('Resize'):
                resize = t['Resize']
                if resize.keep_ratio:
                    w, h = mmcv.rescale_size(s2[::-1], tuple(resize.scale))
                else:
                    w, h = resize.scale
                s3 = (int(h), int(w))
            s4 = self._padded(s3) if self._on('Pad') else s3
            rows.append((size, s1, s2, s3, s4))
        return rows

    def _padded(self, size: Size) -> Size:
        """Size after mmcv's ``Pad`` (square, divisor or fixed size)."""
        pad = self.transforms['Pad']
        h, w = size
        target = None
        if pad.pad_to_square:
            target = (max(h, w), ) * 2
        if pad.size_divisor is not None:
            th, tw = target or (h, w)
            d = pad.size_divisor
            target = (math.ceil(th / d) * d, math.ceil(tw / d) * d)
        elif pad.size is not None:
            target = tuple(pad.size[::-1])
        th, tw = target or (h, w)
        return max(th, h), max(tw, w)

    # -------------------------------------------------------------- geometry
    def _output_to_s2(self, sz: Dict[str, Tensor], flip: Tensor) -> Tensor:
        """(N, 3, 3) map of output pixels to pixels of the RandomAffine /
        MixUp output S2: Resize undone (``cv2.resize`` pixel centres), then
        the flip of that image undone."""
        kx, ky = sz['s2w'] / sz['s3w'], sz['s2h'] / sz['s3h']
        sign = 1.0 - 2.0 * flip.double()
        return _matrices(
            len(flip),
            flip.device,
            a00=sign * kx,
            a02=sign * (0.5 * kx - 0.5) + flip * (sz['s2w'] - 1),
            a11=ky,
            a12=0.5 * ky - 0.5)

    def _mosaic(self, u: Tensor, sz: Dict[str, Tensor], boxes: Tensor,
                labels: Tensor, valid: Tensor) -> tuple:
        """Mosaic's tiles and boxes.

        Returns:
            tuple: ``src`` (N, Q) the sample of each tile (Q = 4 tiles, or
            1 without Mosaic: the frame itself); ``tile``, a dict of
            float64 tensors: ``ax``, ``bx``, ``ay``, ``by`` (N, Q) (canvas
            pixel -> source pixel ``a * c + b``), ``cx``, ``cy`` (N, 1)
            (the centre) and the canvas ``height`` and ``width`` (N, 1);
            the boxes, labels and validity on the canvas.
        """
        n, device = u.shape[0], u.device
        own = torch.arange(n, device=device)[:, None]
        if not self._on('Mosaic'):
            zeros = u.new_zeros((n, 1))
            tile = dict(
                ax=zeros + 1,
                bx=zeros,
                ay=zeros + 1,
                by=zeros,
                cx=zeros,
                cy=zeros,
                height=sz['in_h'][:, None],
                width=sz['in_w'][:, None])
            return own, tile, boxes, labels, valid
        mosaic = self.transforms['Mosaic']
        sw, sh = mosaic.img_scale
        low, high = mosaic.center_ratio_range
        cx = torch.floor(_uniform(u[:, _CENTER_X], low, high) * sw)[:, None]
        cy = torch.floor(_uniform(u[:, _CENTER_Y], low, high) * sh)[:, None]
        src = torch.cat([own, self._others(u[:, _MOSAIC_PARTNERS])], 1)
        h, w = sz['in_h'][src], sz['in_w'][src]
        ratio = torch.minimum(sh / h, sw / w)
        tw, th = torch.floor(w * ratio), torch.floor(h * ratio)
        quadrant = torch.arange(4, device=device)
        right, bottom = quadrant % 2 == 1, quadrant >= 2
        # paste offset of each tile: mmdet's x1_p - x1_c, y1_p - y1_c
        ox = torch.where(right, cx, cx - tw)
        oy = torch.where(bottom, cy, cy - th)
        ax, ay = w / tw, h / th
        canvas = torch.stack(
            [u.new_full((n, ), 2.0 * sh),
             u.new_full((n, ), 2.0 * sw)], 1)
        tile = dict(
            ax=ax,
            bx=(0.5 - ox) * ax - 0.5,
            ay=ay,
            by=(0.5 - oy) * ay - 0.5,
            cx=cx,
            cy=cy,
            height=canvas[:, :1],
            width=canvas[:, 1:])
        offset = torch.stack([ox, oy, ox, oy], -1).float()  # (N, 4, 4)
        boxes = (boxes[src] * ratio.float()[..., None, None] +
                 offset[:, :, None]).flatten(1, 2)
        labels = labels[src].flatten(1, 2)
        valid = valid[src].flatten(1, 2)
        canvas = canvas.float()
        if mosaic.bbox_clip_border:
            boxes = _clip(boxes, canvas[:, :1], canvas[:, 1:])
        valid = valid & _is_inside(boxes, canvas[:, :1], canvas[:, 1:])
        return src, tile, boxes, labels, valid

    @staticmethod
    def _others(u: Tensor) -> Tensor:
        """Indices of other samples of the batch, uniform among them (the
        sample itself in a batch of one), for uniform draws ``u`` (N, K)."""
        n = u.shape[0]
        own = torch.arange(n, device=u.device)[:, None]
        if n == 1:
            return own.expand_as(u)
        return (own + 1 + torch.floor(u * (n - 1)).long()) % n

    def _affine(self, u: Tensor, sz: Dict[str, Tensor], boxes: Tensor,
                valid: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """RandomAffine's matrices (N, 3, 3), canvas -> output pixel, as
        ``_get_random_homography_matrix`` makes them; the boxes projected,
        clipped and filtered."""
        n, device = u.shape[0], u.device
        if not self._on('RandomAffine'):
            return _matrices(n, device), boxes, valid
        t = self.transforms['RandomAffine']

        def symmetric(column: int, limit: float) -> Tensor:
            return _uniform(u[:, column], -limit, limit)

        rot = torch.deg2rad(symmetric(_ROTATE, t.max_rotate_degree))
        scale = _uniform(u[:, _SCALE], *t.scaling_ratio_range)
        shear_x = torch.deg2rad(symmetric(_SHEAR_X, t.max_shear_degree))
        shear_y = torch.deg2rad(symmetric(_SHEAR_Y, t.max_shear_degree))
        shift_x = symmetric(_SHIFT_X, t.max_translate_ratio) * sz['s2w']
        shift_y = symmetric(_SHIFT_Y, t.max_translate_ratio) * sz['s2h']
        cos, sin = torch.cos(rot), torch.sin(rot)
        matrix = (
            _matrices(n, device, a02=shift_x, a12=shift_y) @ _matrices(
                n, device, a01=torch.tan(shear_x), a10=torch.tan(shear_y))
            @ _matrices(n, device, a00=cos, a01=-sin, a10=sin,
                        a11=cos) @ _matrices(n, device, a00=scale, a11=scale))
        # HorizontalBoxes.project_: the four corners, then their hull
        x1, y1, x2, y2 = boxes.unbind(-1)
        corners = torch.stack([
            torch.stack([x1, x2, x1, x2], -1),
            torch.stack([y1, y1, y2, y2], -1),
            torch.ones_like(x1)[..., None].expand(*x1.shape, 4)
        ], -2)  # (N, M, 3, 4)
        proj = matrix.float()[:, None] @ corners
        proj = proj[:, :, :2] / proj[:, :, 2:]
        boxes = torch.cat([proj.amin(-1), proj.amax(-1)], -1)
        h, w = sz['s2h'][:, None].float(), sz['s2w'][:, None].float()
        if t.bbox_clip_border:
            boxes = _clip(boxes, h, w)
        return matrix, boxes, valid & _is_inside(boxes, h, w)

    # ---------------------------------------------------------------- pixels
    def _source_image(self, x: Tensor,
                      in_sizes: List[Size]) -> Tuple[Tensor, Tensor]:
        """The raw frames as one image for ``grid_sample``.

        The frames minus the fill value are stacked vertically with one row
        and one column of zeros after each frame (and zeros outside each
        frame's size), so that sampling within a pixel of a frame's border
        blends towards the fill value as OpenCV blends towards a pad, and
        never reaches the next frame.

        Returns:
            tuple: (1, C, N * (H + 1), W + 1) float32 image and the fill
            value (C, ) float32: Mosaic's pad, else RandomAffine's border,
            else Pad's value.
        """
        n, c, h, w = x.shape
        t = self.transforms
        if self._on('Mosaic'):
            value = t['Mosaic'].pad_val
        elif self._on('RandomAffine'):
            value = t['RandomAffine'].border_val
        else:
            value = t['Pad'].pad_val.get('img', 0) if 'Pad' in t else 0.0
        fill = _pad_value(value, c, x.device)
        big = x.new_zeros((c, n, h + 1, w + 1), dtype=torch.float32)
        big[:, :, :h, :w].copy_(x.transpose(0, 1)).sub_(fill.view(c, 1, 1, 1))
        if any(s != (h, w) for s in in_sizes):
            hs = _to_device([s[0] for s in in_sizes], torch.long, x.device)
            ws = _to_device([s[1] for s in in_sizes], torch.long, x.device)
            rows = torch.arange(h + 1, device=x.device)[None, :, None]
            cols = torch.arange(w + 1, device=x.device)[None, None, :]
            big *= ((rows < hs[:, None, None]) &
                    (cols < ws[:, None, None]))[None]
        return big.view(1, c, n * (h + 1), w + 1), fill

    @staticmethod
    def _grid_sample(big: Tensor, src: Tensor, u: Tensor, v: Tensor,
                     src_h: Tensor, src_w: Tensor) -> Tuple[Tensor, Tensor]:
        """Bilinear samples of frames ``src`` at pixel ``(u, v)``.

        Args:
            big (Tensor): The image of :meth:`_source_image`.
            src, u, v, src_h, src_w (Tensor): (N, H', W') frame index, its
                pixel coordinates (cv2 / ``align_corners=False`` centres)
                and its size (broadcastable).

        Returns:
            tuple: (N, C, H', W') samples (fill subtracted) and the (N, H',
            W') mask of the points within a pixel of their frame.
        """
        c, rows, cols = big.shape[1:]
        n = u.shape[0]
        inside = (u > -1) & (u < src_w) & (v > -1) & (v < src_h)
        gx = (2.0 * u + 1.0) / cols - 1.0
        gy = (2.0 * (v + src * (rows // n)) + 1.0) / rows - 1.0
        grid = torch.stack([gx, gy], -1).view(1, -1, u.shape[-1], 2)
        out = F.grid_sample(
            big,
            grid,
            mode='bilinear',
            padding_mode='zeros',
            align_corners=False)
        out = out.view(c, n, *u.shape[1:]).transpose(0, 1)
        return out.mul_(inside[:, None]), inside

    def _warp(self, big: Tensor, fill: Tensor, to_canvas: Tensor, src: Tensor,
              tile: Dict[str, Tensor], sz: Dict[str, Tensor],
              out_size: Size) -> Tensor:
        """Mosaic and RandomAffine (and flip and resize) in one sampling.

        Args:
            to_canvas (Tensor): (N, 3, 3) output pixel -> Mosaic canvas
                pixel (the frame without Mosaic).

        Returns:
            Tensor: (N, C, H', W') float32 image of uint8 values.
        """
        cx, cy = _map_pixels(to_canvas, *out_size)
        tile = {k: v.float() for k, v in tile.items()}
        weight = None
        if src.shape[1] == 4:
            # outside the Mosaic canvas: RandomAffine's border, blended over
            # the last pixel as cv2.warpPerspective blends it (the tiles
            # beyond the canvas edge were cropped)
            weight = (
                torch.minimum(cx + 1, tile['width'][..., None] - cx).clamp_(
                    0, 1) * torch.minimum(
                        cy + 1, tile['height'][..., None] - cy).clamp_(0, 1))
        frames, u, v, frame_h, frame_w = self._tile_pixels(
            cx, cy, src, tile, sz)
        del cx, cy  # (N, H', W') each: memory for the sampling
        if not (self._on('Mosaic') or self._on('RandomAffine')):
            # only flip and resize: cv2.resize repeats the edge pixels
            u = torch.minimum(u.clamp(min=0), frame_w - 1)
            v = torch.minimum(v.clamp(min=0), frame_h - 1)
        img, _ = self._grid_sample(big, frames, u, v, frame_h, frame_w)
        img.add_(fill.view(1, -1, 1, 1))
        if weight is not None:
            border = fill
            if self._on('RandomAffine'):
                border = _pad_value(self.transforms['RandomAffine'].border_val,
                                    img.shape[1], src.device)
            border = border.view(1, -1, 1, 1)
            img.sub_(border).mul_(weight[:, None]).add_(border)
        return img.round_().clamp_(0, 255)

    @staticmethod
    def _tile_pixels(cx: Tensor, cy: Tensor, src: Tensor,
                     tile: Dict[str, Tensor], sz: Dict[str, Tensor]) -> tuple:
        """Frame index, frame pixel (u, v) and frame size of each canvas
        pixel (cx, cy): the Mosaic quadrant's tile, else the frame itself.

        Returns:
            tuple[Tensor]: (N, H', W') or broadcastable tensors.
        """
        n, device = src.shape[0], src.device
        in_h, in_w = sz['in_h'].float(), sz['in_w'].float()
        if src.shape[1] == 1:
            return (src.view(-1, 1,
                             1), cx, cy, in_h.view(-1, 1,
                                                   1), in_w.view(-1, 1, 1))
        quadrant = ((cx >= (tile['cx'] - 0.5)[..., None]).long() + 2 *
                    (cy >= (tile['cy'] - 0.5)[..., None]).long())
        index = quadrant.add_(4 *
                              torch.arange(n, device=device).view(-1, 1, 1))

        def per_pixel(t: Tensor) -> Tensor:
            return t.reshape(-1).take(index)

        return (per_pixel(src),
                per_pixel(tile['ax']).mul_(cx).add_(per_pixel(tile['bx'])),
                per_pixel(tile['ay']).mul_(cy).add_(per_pixel(tile['by'])),
                per_pixel(in_h[src]), per_pixel(in_w[src]))

    def _mixup(self, u: Tensor, big: Tensor, fill: Tensor, img: Tensor,
               to_s2: Tensor, sz: Dict[str, Tensor], raw: Tuple[Tensor, Tensor,
                                                                Tensor],
               boxes: Tensor, labels: Tensor, valid: Tensor) -> tuple:
        """MixUp: blend each sample with a raw partner of the batch (one
        with boxes, else none) as mmdet's MixUp does; add the partner's
        boxes and filter all boxes as it does."""
        t = self.transforms['MixUp']
        n, device = img.shape[0], img.device
        # partner: the first of max_iters draws with boxes
        candidates = self._others(u[:, _MIX_PARTNERS:])
        has_boxes = raw[2].sum(1)[candidates] > 0
        apply = has_boxes.any(1)
        first = has_boxes.to(torch.uint8).argmax(1, keepdim=True)
        partner = candidates.gather(1, first)[:, 0]
        sw, sh = t.dynamic_scale
        jitter = _uniform(u[:, _JITTER], *t.ratio_range)
        flip = u[:, _MIX_FLIP] > t.flip_ratio
        h, w = sz['in_h'][partner], sz['in_w'][partner]
        ratio = torch.minimum(sh / h, sw / w)
        # the resized partner (pw, ph) on a (sw, sh) canvas, jittered to
        # (ow, oh), padded to at least S2 and cropped at (x_off, y_off)
        pw, ph = torch.floor(w * ratio), torch.floor(h * ratio)
        ow, oh = torch.floor(sw * jitter), torch.floor(sh * jitter)
        s2h, s2w = sz['s2h'], sz['s2w']
        x_off = torch.floor(u[:, _MIX_X] * (torch.maximum(ow, s2w) - s2w + 1))
        y_off = torch.floor(u[:, _MIX_Y] * (torch.maximum(oh, s2h) - s2h + 1))

        # S2 pixel -> padded canvas (crop offset) -> unflipped jittered
        # canvas -> canvas before the jitter (cv2.resize) -> partner frame
        # (cv2.resize)
        sign = 1.0 - 2.0 * flip.double()
        ax, ay = sw / ow * w / pw, sh / oh * h / ph
        to_partner = _matrices(
            n,
            device,
            a00=ax * sign,
            a02=ax * (sign * x_off + flip * (ow - 1)) + 0.5 * ax - 0.5,
            a11=ay,
            a12=ay * y_off + 0.5 * ay - 0.5)
        pu, pv = _map_pixels(to_partner @ to_s2, *img.shape[-2:])
        other, inside = self._grid_sample(big, partner.view(-1, 1, 1), pu, pv,
                                          h.float().view(-1, 1, 1),
                                          w.float().view(-1, 1, 1))
        pad = _pad_value(t.pad_val, img.shape[1], device).view(1, -1, 1, 1)
        other.add_(fill.view(1, -1, 1, 1))
        torch.where(inside[:, None], other, pad, out=other)
        other.round_().clamp_(0, 255).add_(img).mul_(0.5).floor_()
        img = torch.where(apply.view(-1, 1, 1, 1), other, img)

        # the partner's boxes, as MixUp.transform adjusts them
        pboxes, plabels, pvalid = (r[partner] for r in raw)
        pboxes = pboxes * (ratio * jitter).float()[:, None, None]
        oh, ow = oh.float()[:, None], ow.float()[:, None]
        if t.bbox_clip_border:
            pboxes = _clip(pboxes, oh, ow)
        pboxes = _flip_x(pboxes, ow, flip)
        shift = torch.stack([x_off, y_off] * 2, -1).float()
        pboxes = pboxes - shift[:, None]
        th, tw = s2h.float()[:, None], s2w.float()[:, None]
        if t.bbox_clip_border:
            pboxes = _clip(pboxes, th, tw)
        boxes = torch.cat([boxes, pboxes], 1)
        labels = torch.cat([labels, plabels], 1)
        valid = torch.cat([valid, pvalid & apply[:, None]], 1)
        # is_inside over all boxes, where MixUp ran
        valid = valid & (_is_inside(boxes, th, tw) | ~apply[:, None])
        return img, boxes, labels, valid

    def _hsv(self, u: Tensor, img: Tensor, channels: Dict[str,
                                                          slice]) -> Tensor:
        """YOLOXHSVRandomAug on the photometric modalities' channels."""
        t = self.transforms['YOLOXHSVRandomAug']
        # np.random.uniform(-1, 1, 3) * deltas * np.random.randint(0, 2, 3),
        # then astype(np.int16)
        draws = _uniform(u[:, _HSV_GAINS], -1.0, 1.0) * (u[:, _HSV_ON] >= 0.5)
        gains = torch.trunc(
            torch.stack([
                draws[:, 0] * t.hue_delta, draws[:, 1] * t.saturation_delta,
                draws[:, 2] * t.value_delta
            ], 1))
        for m in self.photometric_modalities:
            if m in channels:
                sl = channels[m]
                img[:, sl] = yolox_hsv_shift(img[:, sl], gains).float()
        return img

    def _pad(self, img: Tensor, sz: Dict[str, Tensor], fill: Tensor) -> Tensor:
        """Pad's value outside each sample's resized image (S3)."""
        device = img.device
        pad = fill
        if 'Pad' in self.transforms:
            pad = _pad_value(self.transforms['Pad'].pad_val.get('img', 0),
                             img.shape[1], device)
        xs = torch.arange(img.shape[-1], device=device).view(1, 1, -1)
        ys = torch.arange(img.shape[-2], device=device).view(1, -1, 1)
        inside = ((xs < sz['s3w'].view(-1, 1, 1)) &
                  (ys < sz['s3h'].view(-1, 1, 1)))
        return torch.where(
            inside[:, None], img, pad.view(1, -1, 1, 1), out=img)

    def _flip_resize_filter(self, boxes: Tensor, valid: Tensor, flip: Tensor,
                            sz: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """RandomFlip, Resize (with its clipping) and FilterAnnotations of
        the boxes."""
        if self._on('RandomFlip'):
            boxes = _flip_x(boxes, sz['s2w'][:, None].float(), flip)
        if self._on('Resize'):
            # scale_factor = new size / old size, as mmdet's Resize
            scale = torch.stack([sz['s3w'] / sz['s2w'], sz['s3h'] / sz['s2h']],
                                -1).repeat(1, 2).float()
            boxes = boxes * scale[:, None]
            if self.transforms['Resize'].clip_object_border:
                boxes = _clip(boxes, sz['s3h'][:, None].float(),
                              sz['s3w'][:, None].float())
        if self._on('FilterAnnotations'):
            min_w, min_h = self.transforms['FilterAnnotations'].min_gt_bbox_wh
            valid = valid & (boxes[..., 2] - boxes[..., 0] > min_w) & (
                boxes[..., 3] - boxes[..., 1] > min_h)
        return boxes, valid

    # ---------------------------------------------------------------- output
    def _pack(self, data_samples: List[DetDataSample], boxes: Tensor,
              labels: Tensor, valid: Tensor, flip: Tensor,
              sizes: List[Tuple[Size, ...]]) -> List[DetDataSample]:
        """New ``gt_instances`` (kept boxes first) and meta information."""
        order = torch.argsort((~valid).to(torch.uint8), dim=1, stable=True)
        boxes = boxes.gather(1, order[..., None].expand_as(boxes))
        labels = labels.gather(1, order)
        n = len(data_samples)
        if self.padded_gt:
            # all slots, the invalid ones zero: nothing read on the host
            valid = valid.gather(1, order)
            boxes = torch.where(valid[..., None], boxes, 0)
            labels = torch.where(valid, labels, 0)
            counts, flips = [boxes.shape[1]] * n, list(flip.unbind(0))
        else:
            # the one host synchronisation: box counts and flips
            host = torch.cat([valid.sum(1), flip.long()]).tolist()
            counts, flips = host[:n], [bool(f) for f in host[n:]]

        def instances(i: int, count: int, box_type: type) -> InstanceData:
            # views of the batch tensors: no copy per sample
            b = boxes[i, :count]
            gt = InstanceData(
                bboxes=box_type(b, clone=False) if issubclass(
                    box_type, BaseBoxes) else b,
                labels=labels[i, :count])
            if self.padded_gt:
                gt.valid = valid[i, :count]
            return gt

        for i, ds in enumerate(data_samples):
            box_type = type(ds.gt_instances.bboxes)
            ds.gt_instances = instances(i, counts[i], box_type)
            if 'ignored_instances' in ds:
                # empty (checked before), now on the device as well
                ds.ignored_instances = instances(i, 0, box_type)
            meta = self._meta(ds, sizes[i], flips[i])
            if self.padded_gt and 'flip' in meta:
                # set_metainfo deep-copies the values: for a tensor, one
                # device copy per sample
                ds.set_field(meta.pop('flip'), 'flip', field_type='metainfo')
            ds.set_metainfo(meta)
        return data_samples

    def _meta(self, ds: DetDataSample, sizes: Tuple[Size, ...],
              flip: Union[bool, Tensor]) -> dict:
        """``img_shape``, ``scale_factor``, ``flip`` and ``flip_direction``
        of a sample (host values but ``flip`` with ``padded_gt``)."""
        _, _, s2, s3, s4 = sizes
        meta = dict(img_shape=s4)
        if self._on('Resize'):
            # relative to the frame a CPU pipeline would resize: the
            # loaded one unless Mosaic / RandomAffine made a new image
            geometric = self._on('Mosaic') or self._on('RandomAffine')
            base = (1.0, 1.0) if geometric else ds.metainfo.get(
                'scale_factor', (1.0, 1.0))
            meta['scale_factor'] = (s3[1] / s2[1] * base[0],
                                    s3[0] / s2[0] * base[1])
        if self._on('RandomFlip'):
            meta['flip'] = flip
            # padded: ``flip`` is a device tensor, not read here
            meta['flip_direction'] = 'horizontal' if (self.padded_gt
                                                      or flip) else None
        return meta
