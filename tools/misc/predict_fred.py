"""Detect drones on new RGB / event data with a trained FRED model.

Either one frame pair, or every RGB frame of a sequence folder in the FRED
layout (``<seq>/RGB/*.jpg``, ``<seq>/Event/Frames/*.png``), paired with the
event frame nearest in time. For each frame the RGB and event frames are
drawn next to each other with the detections, and all detections are
written to ``predictions.json``.

Examples::

    python tools/misc/predict_fred.py CONFIG CKPT \\
        --rgb RGB/Video_3_16_03_03.363563.jpg \\
        --event Event/Frames/Video_3_1233331.png --out-dir out
    python tools/misc/predict_fred.py CONFIG CKPT --seq-dir data/FRED/12 \\
        --out-dir out --score-thr 0.3
"""
import argparse
import json
import os.path as osp
import sys
from typing import Iterator, List, Optional

import mmcv
import torch
from mmcv.transforms import Compose
from mmdet.registry import MODELS, VISUALIZERS
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import import_modules_from_strings, mkdir_or_exist

import mmfusion.engine  # noqa: F401  (checkpoint loading on torch >= 2.6)

# Annotation problems do not matter for prediction; frame problems do.
ANNOTATION_FILE_REASONS = ('missing_annotation', )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict with a FRED model on RGB / event frames')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--rgb', help='RGB frame (use with --event)')
    src.add_argument('--seq-dir', help='sequence folder in the FRED layout')
    parser.add_argument('--event', help='event frame paired with --rgb')
    parser.add_argument(
        '--out-dir', required=True, help='folder for images and JSON')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='lowest score written and drawn')
    parser.add_argument(
        '--max-dets',
        type=int,
        default=100,
        help='most detections kept per frame (highest scores)')
    parser.add_argument(
        '--fusion-threshold',
        type=float,
        default=0.1,
        help='--seq-dir: largest |event - RGB time| (s) counted as paired')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='--seq-dir: predict on the first N RGB frames only')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if args.rgb is not None and args.event is None:
        parser.error('--rgb needs --event')
    return args


def build_test_pipeline(cfg: Config) -> Compose:
    """The test pipeline of the config without its annotation loading.

    Prediction loads, letterboxes (resize and pad) and packs every frame
    pair exactly as ``tools/test.py`` does, so that a model sees real
    frames the way it was evaluated.

    Args:
        cfg (Config): The model's config.

    Returns:
        Compose: The pipeline, applied to ``dict(img_path=...,
        event_path=..., img_id=..., modality=...)``.
    """
    return Compose([
        t for t in cfg.test_dataloader.dataset.pipeline
        if t['type'] != 'LoadAnnotations'
    ])


def frame_pairs(args: argparse.Namespace) -> Iterator[dict]:
    """The frames to predict on, with their pairing information."""
    if args.rgb is not None:
        for path in (args.rgb, args.event):
            if not osp.isfile(path):
                raise FileNotFoundError(f'frame {path} does not exist')
        yield dict(img_path=args.rgb, event_path=args.event)
        return
    from projects.fred_fusion.fred_fusion.converters import (pair_sequence,
                                                             scan_sequence)
    from projects.fred_fusion.fred_fusion.datasets import FREDDataError
    seq_dir = args.seq_dir.rstrip('/')
    if not osp.isdir(seq_dir):
        raise FileNotFoundError(f'sequence folder {seq_dir} does not exist')
    scan = scan_sequence(seq_dir)
    problems = [
        p for p in scan.problems if p.kind not in ANNOTATION_FILE_REASONS
        and not p.file.endswith('.txt')
    ]
    if problems:
        raise FREDDataError(problems)
    for name, frames in (('RGB', scan.rgb_frames), ('event',
                                                    scan.event_frames)):
        if not frames:
            raise FileNotFoundError(f'{seq_dir} holds no {name} frame')
    entries, problems = pair_sequence(
        scan,
        osp.basename(seq_dir),
        seq_dir,
        fusion_threshold=args.fusion_threshold)
    if problems:
        raise FREDDataError(problems)
    for entry in entries[:args.max_frames]:
        yield {
            k: entry[k]
            for k in ('img_path', 'event_path', 'time_diff', 'paired')
        }


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))

    model = MODELS.build(cfg.model)
    checkpoint = load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    classes = checkpoint.get('meta', {}).get('dataset_meta', {}).get('classes')
    if classes is None:
        from projects.fred_fusion.fred_fusion.datasets import FRED_CLASSES
        classes = FRED_CLASSES

    modalities = tuple(model.modalities)
    modality = 'dual' if len(modalities) > 1 else modalities[0]
    pipeline = build_test_pipeline(cfg)
    visualizer = VISUALIZERS.build(
        dict(type='DualModalDetLocalVisualizer', name='predict_fred'))
    visualizer.dataset_meta = dict(classes=classes)
    vis_dir = osp.join(args.out_dir, 'vis')
    mkdir_or_exist(vis_dir)

    records = []
    for img_id, pair in enumerate(frame_pairs(args)):
        data = pipeline(dict(pair, img_id=img_id, modality=modality))
        with torch.no_grad():
            result = model.test_step(pseudo_collate([data]))[0]
        pred = result.pred_instances.cpu()
        pred = pred[pred.scores >= args.score_thr]
        pred = pred[pred.scores.argsort(descending=True)[:args.max_dets]]
        # boxes are reported inside the frame they were found in
        height, width = result.ori_shape
        pred.bboxes[:, 0::2] = pred.bboxes[:, 0::2].clamp(0, width)
        pred.bboxes[:, 1::2] = pred.bboxes[:, 1::2].clamp(0, height)
        result.pred_instances = pred
        detections = [
            dict(
                bbox=[round(float(v), 2) for v in box],
                score=round(float(score), 4),
                label=int(label),
                class_name=classes[int(label)])
            for box, score, label in zip(pred.bboxes, pred.scores, pred.labels)
        ]
        record = dict(pair, detections=detections)
        if 'pair_score' in result:
            record['pair_score'] = round(float(result.pair_score), 4)
        records.append(record)

        frames = dict(
            rgb=mmcv.imread(pair['img_path'], channel_order='rgb'),
            event=mmcv.imread(pair['event_path'], channel_order='rgb'))
        drawn = visualizer.draw_modalities(
            frames, result, draw_gt=False, pred_score_thr=-1)
        name = osp.splitext(osp.basename(pair['img_path']))[0]
        mmcv.imwrite(drawn[..., ::-1], osp.join(vis_dir, name + '.jpg'))

    out_file = osp.join(args.out_dir, 'predictions.json')
    with open(out_file, 'w') as f:
        json.dump(
            dict(
                config=args.config,
                checkpoint=args.checkpoint,
                modalities=list(modalities),
                score_thr=args.score_thr,
                frames=records),
            f,
            indent=1)
    num = sum(len(r['detections']) for r in records)
    print(f'{len(records)} frame(s), {num} detection(s) >= '
          f'{args.score_thr}: {out_file}, drawings in {vis_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
