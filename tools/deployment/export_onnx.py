"""Export a FRED detector (one input per modality) to ONNX and check it.

The graph takes raw frames, BGR float pixels of shape (N, 3, H, W) with H
and W multiples of 32, one input per modality (``rgb``, ``event``), and
applies the model's normalisation, backbones, fusion, neck and head. It
returns every prior's decoded box and class scores (NMS is left to the
runtime):

- ``bboxes``: (N, A, 4) as (x1, y1, x2, y2) in input pixels;
- ``scores``: (N, A, num_classes), class probability x objectness.

The batch axis is dynamic; with ``--dynamic-shape`` H and W are too (and
A follows them), so one file serves every input size.

After export, onnxruntime runs the file on the same inputs as PyTorch and
the largest absolute difference is printed; the script fails if it exceeds
``--atol``. With ``--dynamic-shape`` the check runs at ``--shape`` and at
every ``--check-shape`` (by default 736x1280, a 1280x720 FRED frame padded
to a multiple of 32).

Examples::

    python tools/deployment/export_onnx.py \\
        configs/fred_fusion/yolox_w0125_dual-concat_1xb8-demo_fred-sample.py \\
        work_dirs/fred_demo/best_coco_bbox_mAP_epoch_20.pth \\
        --out work_dirs/fred_demo/model.onnx --shape 192 320
    python tools/deployment/export_onnx.py CONFIG CKPT --out model.onnx \\
        --dynamic-shape --shape 192 320 --check-shape 736 1280
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import import_modules_from_strings, mkdir_or_exist
from torch import Tensor

import mmfusion.engine  # noqa: F401  (checkpoint loading on torch >= 2.6)


def grid_priors(feat: Tensor, stride: Tuple[int, int]) -> Tensor:
    """Priors of one level, as ``MlvlPointGenerator(offset=0)`` of YOLOX
    with ``with_stride=True``, from sizes the ONNX tracer keeps symbolic
    (mmdet's generator counts the grid with ``len()``, which the tracer
    records as a constant).

    Args:
        feat (Tensor): Feature map of the level, (N, C, H_i, W_i).
        stride (tuple[int, int]): ``(stride_w, stride_h)`` of the level.

    Returns:
        Tensor: (H_i * W_i, 4) priors ``(x, y, stride_w, stride_h)``, row
        by row.
    """
    stride_w, stride_h = stride
    xs = torch.arange(feat.shape[3], device=feat.device).to(feat.dtype)
    ys = torch.arange(feat.shape[2], device=feat.device).to(feat.dtype)
    yy, xx = torch.meshgrid(ys * stride_h, xs * stride_w, indexing='ij')
    xx, yy = xx.reshape(-1), yy.reshape(-1)
    return torch.stack(
        [xx, yy,
         torch.full_like(xx, stride_w),
         torch.full_like(yy, stride_h)], -1)


class DeployDetector(nn.Module):
    """Raw frames of each modality -> decoded boxes and scores.

    Args:
        detector (nn.Module): A built ``DualStreamYOLOX`` in eval mode.
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector
        self.modalities = tuple(detector.modalities)

    def forward(self, *frames: Tensor) -> Tuple[Tensor, Tensor]:
        """Detect on raw frames.

        Args:
            *frames (Tensor): One (N, 3, H, W) BGR float tensor per
                modality, in ``self.modalities`` order.

        Returns:
            tuple[Tensor]: ``bboxes`` (N, A, 4) and ``scores`` (N, A, C).
        """
        pre = self.detector.data_preprocessor
        inputs = {}
        for modality, img in zip(self.modalities, frames):
            if pre.bgr_to_rgb[modality]:
                img = img[:, [2, 1, 0]]
            if pre.normalize[modality]:
                img = (img - getattr(pre, f'{modality}_mean')) / getattr(
                    pre, f'{modality}_std')
            inputs[modality] = img
        head = self.detector.bbox_head
        cls_scores, bbox_preds, objectnesses = self.detector._forward(inputs)
        num = cls_scores[0].size(0)
        priors = torch.cat([
            grid_priors(c, stride)
            for c, stride in zip(cls_scores, head.prior_generator.strides)
        ])
        cls = torch.cat([
            c.permute(0, 2, 3, 1).reshape(num, -1, head.cls_out_channels)
            for c in cls_scores
        ], 1)
        boxes = torch.cat(
            [b.permute(0, 2, 3, 1).reshape(num, -1, 4) for b in bbox_preds], 1)
        obj = torch.cat(
            [o.permute(0, 2, 3, 1).reshape(num, -1, 1) for o in objectnesses],
            1)
        bboxes = head._bbox_decode(priors, boxes)
        scores = cls.sigmoid() * obj.sigmoid()
        return bboxes, scores


def build_detector(config: str,
                   checkpoint: str,
                   cfg_options: dict = None) -> nn.Module:
    """Build the model of a config and load a checkpoint (CPU, eval)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu')
    return model.eval()


def _check_shape(shape: Sequence[int]) -> Tuple[int, int]:
    h, w = (int(v) for v in shape)
    if h % 32 or w % 32:
        raise ValueError(f'shape {h} {w}: height and width must be '
                         'multiples of 32 (YOLOX strides)')
    return h, w


def export(
    model: nn.Module,
    out_file: str,
    shape: Sequence[int],
    batch_size: int = 1,
    opset: int = 17,
    seed: int = 0,
    dynamic_shape: bool = False,
    check_shapes: Sequence[Sequence[int]] = ()
) -> Dict[Tuple[int, int], Dict[str, float]]:
    """Export ``model`` to ``out_file`` and compare onnxruntime with
    PyTorch.

    Args:
        model (nn.Module): A ``DualStreamYOLOX`` in eval mode.
        out_file (str): Path of the ONNX file.
        shape (Sequence[int]): Input (H, W) of the export, multiples of 32.
        batch_size (int): Batch of the comparison runs; the batch axis of
            the graph is dynamic. Defaults to 1.
        opset (int): ONNX opset. Defaults to 17.
        seed (int): Seed of the random comparison frames. Defaults to 0.
        dynamic_shape (bool): Make H and W of the inputs (and the number
            of priors of the outputs) dynamic. Defaults to False.
        check_shapes (Sequence[Sequence[int]]): Further (H, W) sizes the
            file is compared with PyTorch at; needs ``dynamic_shape``.
            Defaults to ().

    Returns:
        dict: For each checked (H, W), the largest absolute difference per
        output.
    """
    import onnxruntime as ort

    shapes = [_check_shape(shape)] + [_check_shape(s) for s in check_shapes]
    if len(shapes) > 1 and not dynamic_shape:
        raise ValueError('other check shapes need --dynamic-shape: the '
                         f'graph of {shapes[0]} takes no other size')
    wrapper = DeployDetector(model).eval()
    gen = torch.Generator().manual_seed(seed)

    def frames(h: int, w: int) -> Tuple[Tensor, ...]:
        return tuple(
            torch.randint(0, 256, (batch_size, 3, h,
                                   w), generator=gen).float()
            for _ in wrapper.modalities)

    names = list(wrapper.modalities)
    outputs = ['bboxes', 'scores']
    axes = {k: {0: 'batch'} for k in names + outputs}
    if dynamic_shape:
        for k in names:
            axes[k].update({2: 'height', 3: 'width'})
        for k in outputs:
            axes[k][1] = 'num_priors'
    mkdir_or_exist(osp.dirname(osp.abspath(out_file)))
    with torch.no_grad():
        # The TorchScript-based exporter: the dynamo exporter (the default
        # of torch >= 2.9) needs the onnxscript package.
        torch.onnx.export(
            wrapper,
            frames(*shapes[0]),
            out_file,
            input_names=names,
            output_names=outputs,
            opset_version=opset,
            dynamic_axes=axes,
            dynamo=False)
    session = ort.InferenceSession(
        out_file, providers=['CPUExecutionProvider'])
    diffs = {}
    for h, w in shapes:
        inputs = frames(h, w)
        with torch.no_grad():
            expected = wrapper(*inputs)
        got = session.run(outputs, {
            k: v.numpy()
            for k, v in zip(names, inputs)
        })
        diffs[(h, w)] = {
            k: float(np.abs(g - e.numpy()).max())
            for k, g, e in zip(outputs, got, expected)
        }
    return diffs


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a FRED detector to ONNX and verify it')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', default='model.onnx', help='output ONNX file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[192, 320],
        metavar=('H', 'W'),
        help='input height and width (multiples of 32); with '
        '--dynamic-shape the size the graph is traced and first checked at')
    parser.add_argument(
        '--dynamic-shape',
        action='store_true',
        help='dynamic input height and width (the batch is always dynamic)')
    parser.add_argument(
        '--check-shape',
        type=int,
        nargs=2,
        action='append',
        metavar=('H', 'W'),
        help='with --dynamic-shape: also compare onnxruntime with PyTorch '
        'at this input size (repeatable; default 736 1280)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='batch of the check run')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset')
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-3,
        help='largest allowed |onnxruntime - PyTorch| over boxes (pixels) '
        'and scores')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    check_shapes = args.check_shape or []
    if args.dynamic_shape and args.check_shape is None:
        check_shapes = [[736, 1280]]
    model = build_detector(args.config, args.checkpoint, args.cfg_options)
    diffs = export(
        model,
        args.out,
        args.shape,
        args.batch_size,
        args.opset,
        dynamic_shape=args.dynamic_shape,
        check_shapes=check_shapes)
    size = 'dynamic H x W' if args.dynamic_shape else \
        f'shape {args.shape[0]}x{args.shape[1]}'
    print(f'exported {args.out} (inputs {list(model.modalities)}, {size})')
    for (h, w), shape_diffs in diffs.items():
        for name, diff in shape_diffs.items():
            print(f'max abs difference onnxruntime vs PyTorch at {h}x{w}, '
                  f'{name}: {diff:.3g}')
    worst = max(d for shape_diffs in diffs.values()
                for d in shape_diffs.values())
    if not worst <= args.atol:
        print(f'FAILED: {worst:.3g} > tolerance {args.atol}')
        return 1
    print(f'OK: within tolerance {args.atol}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
