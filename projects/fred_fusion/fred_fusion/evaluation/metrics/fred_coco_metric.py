"""COCO box metric that scores a detector without detections as 0."""
from collections import OrderedDict
from typing import Dict

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS
from mmengine.logging import print_log

# Summary keys of the COCO box evaluation, as CocoMetric names them.
BBOX_KEYS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


@METRICS.register_module()
class FREDCocoMetric(CocoMetric):
    """:class:`mmdet.evaluation.CocoMetric` that never returns nothing.

    mmdet's metric returns an empty dict when the model made no detection
    at all (common in the first epochs of training from scratch), which
    breaks ``save_best='coco/bbox_mAP'`` and hides the run from the logs.
    This metric reports 0 for every summary value (and every class with
    ``classwise=True``) instead. Otherwise it is CocoMetric: the ground
    truth comes from ``ann_file`` or, without it, from the samples'
    ``instances``; only boxes, scores and labels are kept per image, so the
    memory does not grow with image size.

    Args:
        **kwargs: Arguments of :class:`CocoMetric`.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics; zeros if no image has a detection.

        Args:
            results (list): ``(gt, prediction)`` pairs of every image.

        Returns:
            dict[str, float]: ``{metric}_mAP``, ``{metric}_mAP_50``, ...
        """
        if any(len(pred['labels']) for _, pred in results):
            return super().compute_metrics(results)
        print_log(
            'FREDCocoMetric: no detection on the whole dataset, every AP is '
            'reported as 0',
            logger='current')
        metrics = OrderedDict()
        for metric in self.metrics:
            if metric != 'bbox':
                raise ValueError(
                    f'FREDCocoMetric supports metric="bbox", got {metric!r}')
            if self.classwise:
                for name in self.dataset_meta['classes']:
                    metrics[f'{name}_precision'] = 0.0
            for key in BBOX_KEYS:
                metrics[f'{metric}_{key}'] = 0.0
        return metrics
