"""FREDCocoMetric: mmdet's COCO box metric with compact per-image memory."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch
from mmdet.datasets.api_wrappers import COCO, COCOeval
from mmdet.evaluation import CocoMetric

from projects.fred_fusion.fred_fusion.datasets import FRED_CLASSES
from projects.fred_fusion.fred_fusion.evaluation import (ChunkedCOCOeval,
                                                         CompactDetections,
                                                         FREDCocoMetric)


def make_samples(num, seed=0, with_extras=True, crowded=()):
    """Data samples as the Evaluator hands them to a metric: predictions
    near the ground truth, plus what a FRED sample also carries; the images
    in ``crowded`` get 150 more detections."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(num):
        gts = []
        for _ in range(rng.integers(0, 3)):
            x, y = rng.uniform(0, 280), rng.uniform(0, 150)
            w, h = rng.uniform(8, 40), rng.uniform(6, 30)
            gts.append(
                dict(
                    bbox=[x, y, x + w, y + h],
                    bbox_label=int(rng.integers(0, 5)),
                    ignore_flag=int(rng.random() < 0.1),
                    track_id=int(rng.integers(1, 3))))
        # a detection near every ground-truth box (mostly of its class),
        # false detections elsewhere, the crowded images get 150 of them
        boxes = [g['bbox'] for g in gts]
        labels = [
            g['bbox_label'] if rng.random() < 0.8 else int(rng.integers(0, 5))
            for g in gts
        ]
        num_false = int(rng.integers(0, 3)) + (150 if i in crowded else 0)
        xy = rng.uniform(0, 250, (num_false, 2))
        boxes += np.concatenate([xy, xy + rng.uniform(8, 30, xy.shape)],
                                1).tolist()
        labels += rng.integers(0, 5, num_false).tolist()
        boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        boxes += torch.from_numpy(rng.normal(0, 2, boxes.shape)).float()
        n = len(boxes)
        scores = rng.uniform(0.01, 0.6, n)
        scores[:len(gts)] = rng.uniform(0.2, 1, len(gts))
        sample = dict(
            img_id=i,
            ori_shape=(180, 320),
            instances=gts,
            pred_instances=dict(
                bboxes=boxes,
                scores=torch.from_numpy(scores).float(),
                labels=torch.tensor(labels, dtype=torch.int64)))
        if with_extras:
            sample.update(
                img_path=f'seq/RGB/Video_{i}.jpg',
                gt_instances=dict(bboxes=torch.zeros(len(gts), 4)),
                frame=torch.zeros(3, 192, 320, dtype=torch.uint8))
        samples.append(sample)
    return samples


def build(metric_type, **kwargs):
    metric = metric_type(ann_file=None, metric='bbox', **kwargs)
    metric.dataset_meta = dict(classes=FRED_CLASSES)
    return metric


def run(metric, samples, size=None, batch=8):
    for i in range(0, len(samples), batch):
        metric.process({}, samples[i:i + batch])
    return metric.evaluate(len(samples) if size is None else size)


@pytest.mark.parametrize('classwise', [False, True])
def test_same_metrics_as_mmdet(classwise):
    samples = make_samples(60)
    ours = run(build(FREDCocoMetric, classwise=classwise), samples)
    mmdet = run(build(CocoMetric, classwise=classwise), samples)
    assert ours == mmdet
    assert 0 < ours['coco/bbox_mAP'] < 1
    # a distributed sampler's padding is dropped alike
    assert run(
        build(FREDCocoMetric), samples, size=50) == run(
            build(CocoMetric), samples, size=50)


def test_chunked_evaluation_equals_one_cocoeval(tmp_path):
    """Chunks of 7 images, images with more detections than the smaller
    detection limits, images without ground truth or detections, ids in
    no particular order: the precision, recall and score curves and the
    summary of one pycocotools COCOeval over everything, as mmdet's
    CocoMetric runs it, to the last bit."""
    samples = make_samples(45, seed=3, crowded=(4, 20))
    order = np.random.default_rng(1).permutation(len(samples))
    samples = [dict(samples[i], img_id=int(i) * 3) for i in order]
    max_dets = (1, 10, 100)
    mmdet = build(CocoMetric, proposal_nums=max_dets)
    mmdet.process({}, samples)
    gts, preds = zip(*mmdet.results)
    prefix = str(tmp_path / 'ref')
    gt_api = COCO(mmdet.gt_to_coco_json(gts, prefix))
    mmdet.cat_ids = gt_api.get_cat_ids(cat_names=FRED_CLASSES)
    ref = COCOeval(gt_api,
                   gt_api.loadRes(mmdet.results2json(preds, prefix)['bbox']),
                   'bbox')
    ref.params.catIds = mmdet.cat_ids
    ref.params.imgIds = gt_api.get_img_ids()
    ref.params.maxDets = list(max_dets)
    ref.params.iouThrs = mmdet.iou_thrs
    ref.evaluate()
    ref.accumulate()
    ref.summarize()

    ours = build(FREDCocoMetric)
    ours.process({}, samples)
    chunked = ChunkedCOCOeval(FRED_CLASSES, mmdet.iou_thrs, max_dets)
    for chunk in ours._detections.images(chunk_images=7):
        chunked.add_images(chunk)
    result = chunked.summarize()
    for key in ('precision', 'recall', 'scores'):
        assert np.array_equal(result.eval[key], ref.eval[key]), key
    assert np.array_equal(result.stats, ref.stats)
    assert 0.1 < ref.stats[0] < 0.9 and ref.stats[1] > ref.stats[0]
    with pytest.raises(ValueError, match='ascending, unique id order'):
        chunked.add_images(next(ours._detections.images()))


def test_same_metrics_as_mmdet_over_chunks():
    """The returned figures over several chunks, with other detection
    limits and metric items."""
    samples = make_samples(45, seed=3, crowded=(4, 20))
    order = np.random.default_rng(1).permutation(len(samples))
    samples = [dict(samples[i], img_id=int(i) * 3) for i in order]
    kwargs = dict(classwise=True, proposal_nums=(1, 10, 100))
    ours = run(build(FREDCocoMetric, chunk_images=7, **kwargs), samples)
    mmdet = run(build(CocoMetric, **kwargs), samples)
    assert ours == mmdet
    kwargs['metric_items'] = ['mAP', 'AR@100', 'AR_s@1000']
    kwargs['proposal_nums'] = (100, 300, 1000)
    assert run(build(FREDCocoMetric, chunk_images=5, **kwargs),
               samples) == run(build(CocoMetric, **kwargs), samples)


def test_images_of_several_processes_merge_in_dataset_order():
    """Three processes of a distributed test: sample i was image i // 3 of
    process i % 3, the last round padded with repeated samples."""
    samples = make_samples(11, seed=2, with_extras=False)
    padded = samples + samples[:1]
    parts = []
    for rank in range(3):
        metric = build(FREDCocoMetric)
        metric.process({}, padded[rank::3])
        parts.append(metric._detections.to_arrays())
    merged = CompactDetections.interleave(parts, len(samples))
    single = build(FREDCocoMetric)
    single.process({}, samples)
    assert [img[0] for chunk in merged.images(sort=False)
            for img in chunk] == list(range(11))
    for a, b in zip(merged.results(), single._detections.results()):
        assert a[0] == b[0]
        for key in ('bboxes', 'scores', 'labels'):
            np.testing.assert_array_equal(a[1][key], b[1][key])
    with pytest.raises(ValueError, match='13 images expected'):
        CompactDetections.interleave(parts, 13)


def test_keeps_nothing_of_the_data_samples():
    """After ``process`` no tensor of a data sample is referenced: not the
    predictions (numpy views of them would keep their storage), not the
    frames or gt_instances."""
    metric = build(FREDCocoMetric)
    samples = make_samples(16)
    refs = [
        weakref.ref(t) for s in samples
        for t in (s['pred_instances']['bboxes'], s['pred_instances']['scores'],
                  s['frame'])
    ]
    metric.process({}, samples)
    del samples
    gc.collect()
    assert all(ref() is None for ref in refs)
    assert metric.results == []


def test_keeps_per_image_no_more_than_its_compact_predictions():
    """Over thousands of images the metric's memory grows by the compact
    predictions and ground truth only (24 bytes a predicted box, 48 a
    ground-truth box, 72 an image), held in a few large chunks; mmdet's
    metric keeps about a kilobyte of Python objects per image (and, not
    traced here, its arrays' torch storages)."""
    template = make_samples(100)
    num_boxes = sum(len(s['pred_instances']['labels']) for s in template)
    num_gts = sum(len(s['instances']) for s in template)
    compact = (24 * num_boxes + 48 * num_gts) / 100 + 72

    def growth_per_image(metric, first, last):
        """Traced bytes added per image from image ``first`` to ``last``."""
        tracemalloc.start()
        try:
            for i in range(last):
                if i == first:
                    gc.collect()
                    start = tracemalloc.get_traced_memory()[0]
                metric.process({}, [dict(template[i % 100], img_id=i)])
            gc.collect()
            end = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        return (end - start) / (last - first)

    metric = build(FREDCocoMetric)
    per_image = growth_per_image(metric, 4000, 24000)
    assert per_image <= 2 * compact, (per_image, compact)
    assert metric.results == [] and len(metric._detections) == 24000

    mmdet_per_image = growth_per_image(build(CocoMetric), 500, 2500)
    assert mmdet_per_image > 600 > 2 * compact, mmdet_per_image
