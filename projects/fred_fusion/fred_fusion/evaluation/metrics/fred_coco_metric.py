"""COCO box metric whose memory does not grow with the test set and that
scores a detector without detections as 0."""
import itertools
from collections import OrderedDict
from typing import Dict, Sequence

import numpy as np
from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS
from mmengine.dist import (broadcast_object_list, collect_results,
                           get_world_size, is_main_process)
from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from ..chunked_coco_eval import ChunkedCOCOeval
from ..compact_detections import CompactDetections

# Summary keys of the COCO box evaluation, as CocoMetric names them, and
# their index in COCOeval.stats.
BBOX_KEYS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
STATS_INDEX = {
    'mAP': 0,
    'mAP_50': 1,
    'mAP_75': 2,
    'mAP_s': 3,
    'mAP_m': 4,
    'mAP_l': 5,
    'AR@100': 6,
    'AR@300': 7,
    'AR@1000': 8,
    'AR_s@1000': 9,
    'AR_m@1000': 10,
    'AR_l@1000': 11
}


def _numpy(value):
    """A tensor (any device) or array as a numpy array."""
    return value.detach().cpu().numpy() if hasattr(value, 'detach') else value


def _mean_precision(precision: np.ndarray) -> float:
    precision = precision[precision > -1]
    return float(np.mean(precision)) if precision.size else float('nan')


@METRICS.register_module()
class FREDCocoMetric(CocoMetric):
    """COCO box mAP of :class:`mmdet.evaluation.CocoMetric`, in a memory
    that stays flat over long test sets.

    - Inference: per image only the predicted boxes, scores and labels and
      the ground-truth boxes, labels and ignore flags are kept, copied into
      a few large chunks (:class:`CompactDetections`). mmdet's metric keeps
      three small arrays (and two dicts) per image; among the large
      short-lived blocks of inference they kept the process growing by
      about 100 KB an image (glibc heap fragmentation).
    - Evaluation: without ``ann_file`` the images are evaluated by
      pycocotools in chunks of ``chunk_images``
      (:class:`ChunkedCOCOeval`); one ``COCOeval`` over all images, as
      mmdet runs it, holds a few kilobytes per image and category. The
      figures, the printed tables and the returned keys are those of
      CocoMetric (``docs/benchmarks.md``: 10,000 test images).
    - mmdet's metric returns an empty dict when the model made no
      detection at all (common in the first epochs of training from
      scratch), which breaks ``save_best='coco/bbox_mAP'`` and hides the run
      from the logs. This metric reports 0 for every summary value (and
      every class with ``classwise=True``) instead.

    Boxes only (``metric='bbox'``). With ``ann_file`` the ground truth
    comes from that file and mmdet's evaluation runs; without it, from the
    samples' ``instances``.

    Args:
        chunk_images (int): Images evaluated at a time. Defaults to 1000.
        **kwargs: Arguments of :class:`CocoMetric`.
    """

    def __init__(self, chunk_images: int = 1000, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.metrics != ['bbox'] or self.format_only:
            raise ValueError('FREDCocoMetric evaluates boxes (metric="bbox", '
                             'format_only=False); use mmdet\'s CocoMetric '
                             'for other metrics')
        self.chunk_images = chunk_images
        self._detections = CompactDetections()

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep the predictions and ground truth of a batch compactly.

        Args:
            data_batch (dict): A batch of data from the dataloader.
            data_samples (Sequence[dict]): The batch's samples with
                ``pred_instances`` (``bboxes`` (n, 4), ``scores`` (n, ),
                ``labels`` (n, )), ``img_id``, ``ori_shape`` and, without
                ``ann_file``, ``instances``.
        """
        for data_sample in data_samples:
            pred = data_sample['pred_instances']
            if self._coco_api is None:
                assert 'instances' in data_sample, \
                    'ground truth is required for evaluation when ' \
                    '`ann_file` is not provided'
                gt_instances = data_sample['instances']
            else:
                gt_instances = ()
            height, width = data_sample['ori_shape'][:2]
            self._detections.add(data_sample['img_id'], width, height,
                                 _numpy(pred['bboxes']),
                                 _numpy(pred['scores']),
                                 _numpy(pred['labels']), gt_instances)

    def evaluate(self, size: int) -> dict:
        """Evaluate the images of every process.

        Each process sends its compact images (not per-image results) to
        the main process, which merges them in dataset order without the
        distributed sampler's padding and computes the metrics.

        Args:
            size (int): Number of images of the dataset.

        Returns:
            dict: The metrics, names prefixed with ``prefix``.
        """
        world_size = get_world_size()
        if world_size == 1:
            detections = CompactDetections.interleave(
                [self._detections.to_arrays()], size) if len(
                    self._detections) > size else self._detections
        else:
            parts = collect_results([self._detections.to_arrays()],
                                    world_size,
                                    self.collect_device,
                                    tmpdir=self.collect_dir)
            detections = CompactDetections.interleave(
                parts, size) if is_main_process() else None
        if is_main_process():
            if not len(detections):
                print_log(
                    f'{type(self).__name__} got no image to evaluate',
                    logger='current',
                    level=30)
            metrics = self.compute_metrics(detections)
            if self.prefix:
                metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
            broadcast = [metrics]
        else:
            broadcast = [None]
        broadcast_object_list(broadcast)
        self._detections.clear()
        return broadcast[0]

    def compute_metrics(self,
                        detections: CompactDetections) -> Dict[str, float]:
        """Compute the metrics; zeros if no image has a detection.

        Args:
            detections (CompactDetections): Every image of the dataset.

        Returns:
            dict[str, float]: ``bbox_mAP``, ``bbox_mAP_50``, ... (and
            ``<class>_precision`` with ``classwise``), as CocoMetric.
        """
        if self._coco_api is not None:
            return super().compute_metrics(detections.results())
        classes = self.dataset_meta['classes']
        if not any(
                len(img[3]) for chunk in detections.images(sort=False)
                for img in chunk):
            print_log(
                'FREDCocoMetric: no detection on the whole dataset, every AP '
                'is reported as 0',
                logger='current')
            metrics = OrderedDict()
            if self.classwise:
                for name in classes:
                    metrics[f'{name}_precision'] = 0.0
            for key in BBOX_KEYS:
                metrics[f'bbox_{key}'] = 0.0
            return metrics

        logger = MMLogger.get_current_instance()
        logger.info('Evaluating bbox...')
        cocoeval = ChunkedCOCOeval(classes, self.iou_thrs, self.proposal_nums)
        for chunk in detections.images(self.chunk_images):
            cocoeval.add_images(chunk)
        coco = cocoeval.summarize()

        eval_results = OrderedDict()
        if self.classwise:
            # as CocoMetric (from detectron2): all areas, the largest
            # number of detections; IoU 0.5 and 0.75; small, medium, large
            precisions = coco.eval['precision']
            rows = []
            for idx, name in enumerate(classes):
                aps = [_mean_precision(precisions[:, :, idx, 0, -1])]
                aps += [
                    _mean_precision(precisions[iou, :, idx, 0, -1])
                    for iou in (0, 5)
                ]
                aps += [
                    _mean_precision(precisions[:, :, idx, area, -1])
                    for area in (1, 2, 3)
                ]
                eval_results[f'{name}_precision'] = round(aps[0], 3)
                rows.append((name, *(f'{round(ap, 3)}' for ap in aps)))
            headers = [
                'category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m',
                'mAP_l'
            ]
            flat = list(itertools.chain(*rows))
            table = [headers] + list(
                itertools.zip_longest(
                    *[flat[i::len(headers)] for i in range(len(headers))]))
            logger.info('\n' + AsciiTable(table).table)
        for item in self.metric_items or BBOX_KEYS:
            if item not in STATS_INDEX:
                raise KeyError(f'metric item "{item}" is not supported')
            eval_results[f'bbox_{item}'] = float(
                f'{round(coco.stats[STATS_INDEX[item]], 3)}')
        ap = coco.stats[:6]
        logger.info(f'bbox_mAP_copypaste: {ap[0]:.3f} {ap[1]:.3f} '
                    f'{ap[2]:.3f} {ap[3]:.3f} {ap[4]:.3f} {ap[5]:.3f}')
        return eval_results
