"""The detections and ground truth of an evaluation, held compactly."""
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np


class ChunkedRows:
    """Rows of one width and dtype, stored back to back in large chunks.

    Storing a few small arrays for every image of a long evaluation leaves
    small long-lived allocations among the large short-lived ones of
    inference (frames, feature maps). glibc's allocator, whose mmap
    threshold grows to the size of those large blocks, serves them from its
    heap and can then not give the freed space back: the process grew by
    about 100 KB an image while the predictions themselves took 2 KB
    (``docs/benchmarks.md``). Chunks are allocated once per
    ``chunk_rows`` rows.

    Args:
        width (int): Values per row.
        dtype (type): Data type of the values.
        chunk_rows (int): Rows of a chunk. Defaults to 16384.
    """

    def __init__(self,
                 width: int,
                 dtype: type,
                 chunk_rows: int = 16384) -> None:
        self.width = width
        self.dtype = np.dtype(dtype)
        self.chunk_rows = chunk_rows
        self._chunks: List[np.ndarray] = []
        self._used: List[int] = []  # rows used of each chunk

    def append(self, rows: np.ndarray) -> Tuple[int, int, int]:
        """Copy ``rows`` (n, width) in; the rows of one call stay in one
        chunk.

        Args:
            rows (np.ndarray): The rows, (n, width).

        Returns:
            tuple[int, int, int]: ``(chunk, start, n)``, the address for
            :meth:`get`.
        """
        rows = np.asarray(rows, self.dtype).reshape(-1, self.width)
        n = len(rows)
        if not self._chunks or self._used[-1] + n > len(self._chunks[-1]):
            self._chunks.append(
                np.empty((max(n, self.chunk_rows), self.width), self.dtype))
            self._used.append(0)
        start = self._used[-1]
        self._chunks[-1][start:start + n] = rows
        self._used[-1] += n
        return len(self._chunks) - 1, start, n

    def get(self, chunk: int, start: int, n: int) -> np.ndarray:
        """The rows stored by one :meth:`append` (a view), (n, width)."""
        return self._chunks[chunk][start:start + n]

    def __iter__(self) -> Iterator[np.ndarray]:
        """The stored rows, chunk by chunk (views), each (n, width)."""
        for chunk, used in zip(self._chunks, self._used):
            yield chunk[:used]

    @property
    def nbytes(self) -> int:
        """int: Bytes of the chunks allocated so far."""
        return sum(c.nbytes for c in self._chunks)

    def clear(self) -> None:
        """Drop every row and chunk."""
        self._chunks = []
        self._used = []


class CompactDetections:
    """Predicted boxes and ground truth of every image of an evaluation,
    in :class:`ChunkedRows` (no per-image allocation).

    An image keeps its id, size, predictions (box, score and label as
    float32, exact for the float32 boxes and scores of a detector) and,
    when the metric builds the ground truth from the samples, its boxes
    (float64, as read from the annotation file), labels and ignore flags.
    Nothing else of a data sample is kept.

    Args:
        chunk_rows (int): Rows of a chunk. Defaults to 16384.
    """

    def __init__(self, chunk_rows: int = 16384) -> None:
        # img_id, width, height, pred (chunk, start, n), gt (chunk, start, n)
        self._images = ChunkedRows(9, np.int64, chunk_rows)
        # x1, y1, x2, y2, score, label
        self._preds = ChunkedRows(6, np.float32, chunk_rows)
        # x1, y1, x2, y2, label, ignore_flag
        self._gts = ChunkedRows(6, np.float64, chunk_rows)
        self._num_images = 0

    def __len__(self) -> int:
        return self._num_images

    @property
    def nbytes(self) -> int:
        """int: Bytes held (the chunks)."""
        return self._images.nbytes + self._preds.nbytes + self._gts.nbytes

    def add(self, img_id: int, width: int, height: int, bboxes: np.ndarray,
            scores: np.ndarray, labels: np.ndarray,
            gt_instances: Sequence[dict]) -> None:
        """Store one image.

        Args:
            img_id (int): Image id.
            width (int): Original image width.
            height (int): Original image height.
            bboxes (np.ndarray): Predicted boxes (n, 4), (x1, y1, x2, y2).
            scores (np.ndarray): Their scores (n, ).
            labels (np.ndarray): Their labels (n, ).
            gt_instances (Sequence[dict]): Ground truth as in mmdet data
                infos: ``bbox``, ``bbox_label`` and optional
                ``ignore_flag``; empty when the metric reads it elsewhere.
        """
        preds = np.empty((len(bboxes), 6), np.float32)
        preds[:, :4] = bboxes
        preds[:, 4] = scores
        preds[:, 5] = labels
        gts = np.array([[*g['bbox'], g['bbox_label'],
                         g.get('ignore_flag', 0)]
                        for g in gt_instances], np.float64).reshape(-1, 6)
        self.add_rows(img_id, width, height, preds, gts)

    def add_rows(self, img_id: int, width: int, height: int, preds: np.ndarray,
                 gts: np.ndarray) -> None:
        """Store one image given as rows (see :meth:`images`)."""
        self._images.append(
            np.array([
                img_id, width, height, *self._preds.append(preds),
                *self._gts.append(gts)
            ]))
        self._num_images += 1

    def images(self,
               chunk_images: int = 1000,
               sort: bool = True) -> Iterator[List[tuple]]:
        """The stored images, a list of ``chunk_images`` at a time.

        Args:
            chunk_images (int): Images per list. Defaults to 1000.
            sort (bool): In ascending image id order (else in the order
                they were added). Defaults to True.

        Yields:
            list[tuple]: ``(img_id, width, height, preds, gts)`` per image:
            ``preds`` (n, 6) rows ``x1, y1, x2, y2, score, label``,
            ``gts`` (m, 6) rows ``x1, y1, x2, y2, label, ignore_flag``
            (views).
        """
        rows = np.concatenate(
            list(self._images) or [np.zeros((0, 9), np.int64)])
        if sort:
            rows = rows[np.argsort(rows[:, 0], kind='stable')]
        for start in range(0, len(rows), chunk_images):
            yield [(row[0], row[1], row[2], self._preds.get(*row[3:6]),
                    self._gts.get(*row[6:9]))
                   for row in rows[start:start + chunk_images].tolist()]

    def to_arrays(self) -> Dict[str, np.ndarray]:
        """Every image in three arrays (to send to another process).

        Returns:
            dict[str, np.ndarray]: ``images`` (N, 5) int64 rows ``img_id,
            width, height, n, m``; ``preds`` (sum n, 6) and ``gts``
            (sum m, 6) in image order.
        """
        images, preds, gts = [], [], []
        for chunk in self.images(chunk_images=max(len(self), 1), sort=False):
            for img_id, width, height, pred, gt in chunk:
                images.append((img_id, width, height, len(pred), len(gt)))
                preds.append(pred)
                gts.append(gt)
        return dict(
            images=np.array(images, np.int64).reshape(-1, 5),
            preds=np.concatenate(preds or [np.zeros((0, 6), np.float32)]),
            gts=np.concatenate(gts or [np.zeros((0, 6))]))

    @classmethod
    def interleave(cls, parts: Sequence[Dict[str, np.ndarray]],
                   size: int) -> 'CompactDetections':
        """Merge the images of several processes in dataset order.

        mmengine's distributed sampler gives process ``r`` of ``W`` the
        samples ``r, r + W, r + 2 W, ...`` and pads the last round with
        repeated samples; sample ``i`` is image ``i // W`` of part
        ``i % W``, and the padding beyond ``size`` is dropped (as
        ``mmengine.dist.collect_results`` does for lists of results).

        Args:
            parts (Sequence[dict]): :meth:`to_arrays` of each process, in
                rank order.
            size (int): Images of the dataset.

        Returns:
            CompactDetections: The merged images.
        """
        offsets = []
        for part in parts:
            counts = part['images'][:, 3:5]
            starts = np.concatenate(
                [np.zeros((1, 2), np.int64),
                 np.cumsum(counts, 0)])
            offsets.append(starts)
        merged = cls()
        for i in range(size):
            part, j = parts[i % len(parts)], i // len(parts)
            if j >= len(part['images']):
                raise ValueError(
                    f'{size} images expected, but process {i % len(parts)} '
                    f'of {len(parts)} holds only {len(part["images"])}')
            img_id, width, height, n, m = part['images'][j].tolist()
            (p0, g0) = offsets[i % len(parts)][j].tolist()
            merged.add_rows(img_id, width, height, part['preds'][p0:p0 + n],
                            part['gts'][g0:g0 + m])
        return merged

    def results(self) -> List[Tuple[dict, dict]]:
        """Per-image ``(gt, prediction)`` pairs as mmdet's
        :class:`~mmdet.evaluation.CocoMetric` builds them in ``process``.

        Returns:
            list[tuple[dict, dict]]: ``gt``: ``img_id``, ``width``,
            ``height``, ``anns`` (dicts with ``bbox``, ``bbox_label``,
            ``ignore_flag``); prediction: ``img_id``, ``bboxes`` (n, 4)
            float32, ``scores`` (n, ) float32, ``labels`` (n, ) int64.
        """
        out = []
        for chunk in self.images(chunk_images=max(len(self), 1), sort=False):
            for img_id, width, height, preds, gts in chunk:
                gts = gts.tolist()
                gt = dict(
                    img_id=img_id,
                    width=width,
                    height=height,
                    anns=[
                        dict(
                            bbox=g[:4],
                            bbox_label=int(g[4]),
                            ignore_flag=int(g[5])) for g in gts
                    ])
                pred = dict(
                    img_id=img_id,
                    bboxes=preds[:, :4].copy(),
                    scores=preds[:, 4].copy(),
                    labels=preds[:, 5].astype(np.int64))
                out.append((gt, pred))
        return out

    def clear(self) -> None:
        """Drop every image."""
        for rows in (self._images, self._preds, self._gts):
            rows.clear()
        self._num_images = 0
