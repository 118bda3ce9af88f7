"""pycocotools' COCO box evaluation over chunks of images, in a memory
that grows with the matched detections only."""
import contextlib
import copy
import datetime
import io
from typing import Dict, List, Sequence, Tuple

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, Params

#: One image: ``(img_id, width, height, preds, gts)`` with ``preds``
#: (n, 6) rows ``x1, y1, x2, y2, score, label`` and ``gts`` (m, 6) rows
#: ``x1, y1, x2, y2, label, ignore_flag``.
Image = Tuple[int, int, int, np.ndarray, np.ndarray]


def _coco(images: List[dict], annotations: List[dict],
          categories: List[dict]) -> COCO:
    """A COCO API over in-memory lists (no JSON file)."""
    coco = COCO()
    coco.dataset = dict(
        images=images, annotations=annotations, categories=categories)
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _box_annotation(ann_id: int, img_id: int, box: Tuple[float, ...],
                    label: float, **fields) -> dict:
    """A COCO box annotation of an ``(x1, y1, x2, y2)`` box (ids from 1)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return dict(
        id=ann_id,
        image_id=img_id,
        bbox=[x1, y1, w, h],
        category_id=int(label),
        area=w * h,
        **fields)


class _Matches:
    """The per-image evaluation results of one category and area range,
    concatenated: what ``COCOeval.accumulate`` reads of them."""

    def __init__(self) -> None:
        self.scores: List[np.ndarray] = []  # (D, ) per chunk
        self.ranks: List[np.ndarray] = []  # rank of a detection in its image
        self.matched: List[np.ndarray] = []  # (T, D) bool
        self.ignored: List[np.ndarray] = []  # (T, D) bool
        self.num_gts = 0  # ground truth that is not ignored
        self.num_images = 0  # images with an evaluation result

    def add(self, results: Sequence[dict], num_thrs: int) -> None:
        """Add ``COCOeval.evalImgs`` entries of one chunk (None: skipped)."""
        results = [r for r in results if r is not None]
        if not results:
            return
        self.num_images += len(results)
        self.scores.append(
            np.concatenate([np.asarray(r['dtScores'], float)
                            for r in results]))
        self.ranks.append(
            np.concatenate([np.arange(len(r['dtScores'])) for r in results]))
        for out, key in ((self.matched, 'dtMatches'), (self.ignored,
                                                       'dtIgnore')):
            out.append(
                np.concatenate([
                    np.asarray(r[key]).reshape(num_thrs, -1) != 0
                    for r in results
                ],
                               axis=1))
        self.num_gts += sum(
            int(np.count_nonzero(np.asarray(r['gtIgnore']) == 0))
            for r in results)

    def merged(self, max_det: int) -> dict:
        """One ``evalImgs`` entry holding every image's first ``max_det``
        detections, in image order (what ``accumulate`` concatenates)."""
        ranks = np.concatenate(self.ranks)
        keep = ranks < max_det
        return dict(
            dtScores=np.concatenate(self.scores)[keep],
            dtMatches=np.concatenate(self.matched, axis=1)[:, keep],
            dtIgnore=np.concatenate(self.ignored, axis=1)[:, keep],
            gtIgnore=np.zeros(self.num_gts))


class ChunkedCOCOeval:
    """COCO box evaluation of many images, chunk by chunk.

    Each chunk of images is evaluated by pycocotools' ``COCOeval``
    (``evaluate``: matching per image, category and area range) on COCO
    objects of that chunk only; of its results only what ``accumulate``
    reads is kept (score, rank, matched and ignored flags of every
    detection, the number of ground-truth boxes that count). The curves
    are then computed by pycocotools' own ``accumulate`` and ``summarize``
    on the concatenated results, which gives exactly the figures of one
    ``COCOeval`` over all images (pycocotools concatenates the images in
    ascending id order; chunks must come in that order). The ground truth
    and the detections are converted as mmdet's ``CocoMetric`` writes and
    reads them.

    Memory: one chunk's COCO objects and per-image results, plus about
    ``4 * (12 + 2 * T)`` bytes a detection (four area ranges, ``T`` IoU
    thresholds), where ``COCOeval`` over all images holds a few kilobytes
    an image and category.

    Args:
        classes (Sequence[str]): Class names; labels index them and are
            the COCO category ids.
        iou_thrs (Sequence[float]): IoU thresholds.
        max_dets (Sequence[int]): Detections per image of the recall
            figures (mmdet's ``proposal_nums``).
    """

    def __init__(self, classes: Sequence[str], iou_thrs: Sequence[float],
                 max_dets: Sequence[int]) -> None:
        self.categories = [
            dict(id=i, name=name) for i, name in enumerate(classes)
        ]
        self.params = Params(iouType='bbox')
        self.params.catIds = list(range(len(classes)))
        self.params.iouThrs = np.asarray(iou_thrs)
        self.params.maxDets = list(max_dets)
        self.params.imgIds = []
        num_areas = len(self.params.areaRng)
        self._matches: Dict[Tuple[int, int], _Matches] = {
            (k, a): _Matches()
            for k in range(len(classes))
            for a in range(num_areas)
        }

    def add_images(self, images: Sequence[Image]) -> None:
        """Evaluate a chunk of images.

        Args:
            images (Sequence[Image]): The images, in ascending id order and
                after those of every earlier chunk.
        """
        ids = [int(img[0]) for img in images]
        last = self.params.imgIds[-1] if self.params.imgIds else None
        if any(b <= a for a, b in zip([last] + ids[:-1], ids)
               if a is not None):
            raise ValueError('images must come in ascending, unique id '
                             'order over all chunks')
        infos, gt_anns, dt_anns = [], [], []
        for img_id, width, height, preds, gts in images:
            img_id = int(img_id)
            infos.append(dict(id=img_id, width=int(width), height=int(height)))
            # as mmdet's CocoMetric.gt_to_coco_json
            for x1, y1, x2, y2, label, ignore in gts.tolist():
                gt_anns.append(
                    _box_annotation(
                        len(gt_anns) + 1,
                        img_id, (x1, y1, x2, y2),
                        label,
                        iscrowd=int(ignore)))
            # as CocoMetric.results2json, then COCO.loadRes
            for x1, y1, x2, y2, score, label in preds.tolist():
                dt_anns.append(
                    _box_annotation(
                        len(dt_anns) + 1,
                        img_id, (x1, y1, x2, y2),
                        label,
                        score=score,
                        iscrowd=0))
        cocoeval = COCOeval(
            _coco(infos, gt_anns, self.categories),
            _coco(infos, dt_anns, self.categories), 'bbox')
        params = copy.deepcopy(self.params)
        params.imgIds = ids
        cocoeval.params = params
        with contextlib.redirect_stdout(io.StringIO()):
            cocoeval.evaluate()
        num_imgs, num_areas = len(ids), len(params.areaRng)
        num_thrs = len(params.iouThrs)
        for (k, a), matches in self._matches.items():
            start = (k * num_areas + a) * num_imgs
            matches.add(cocoeval.evalImgs[start:start + num_imgs], num_thrs)
        self.params.imgIds.extend(ids)

    def summarize(self) -> COCOeval:
        """Accumulate and summarise every chunk's results.

        Returns:
            COCOeval: With ``eval`` (``precision`` (T, R, K, A, M),
            ``recall``, ``scores``) and ``stats`` as after pycocotools'
            ``accumulate`` and ``summarize`` (which prints its table).
        """
        p = self.params
        num_k, num_a = len(p.catIds), len(p.areaRng)
        shape = (len(p.iouThrs), len(p.recThrs), num_k, num_a, len(p.maxDets))
        precision, scores = -np.ones(shape), -np.ones(shape)
        recall = -np.ones((shape[0], ) + shape[2:])
        for m, max_det in enumerate(p.maxDets):
            # pycocotools' accumulate over one merged entry per category
            # and area range, holding every image's first max_det; the
            # limit of the merged entry itself is their number
            entries = [
                self._matches[k, a].merged(max_det)
                if self._matches[k, a].num_images else None
                for k in range(num_k) for a in range(num_a)
            ]
            part = COCOeval(iouType='bbox')
            part.params = copy.deepcopy(p)
            part.params.imgIds = [0]
            part.params.maxDets = [
                max([len(e['dtScores']) for e in entries if e] + [1])
            ]
            part._paramsEval = copy.deepcopy(part.params)
            part.evalImgs = entries
            with contextlib.redirect_stdout(io.StringIO()):
                part.accumulate()
            precision[..., m] = part.eval['precision'][..., 0]
            scores[..., m] = part.eval['scores'][..., 0]
            recall[..., m] = part.eval['recall'][..., 0]
        result = COCOeval(iouType='bbox')
        result.params = p
        result.eval = dict(
            params=p,
            counts=list(shape),
            date=datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S'),
            precision=precision,
            recall=recall,
            scores=scores)
        result.summarize()
        return result
