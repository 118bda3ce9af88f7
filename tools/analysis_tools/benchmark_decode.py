"""Decode cost of the strict decoder against OpenCV.

Example::

    python tools/analysis_tools/benchmark_decode.py --generate 4

Times, per file, ``cv2.imdecode`` and :func:`mmfusion.datasets.decode_image`
(strict) at full size and at half size (``IMREAD_REDUCED_COLOR_2``; for
JPEGs libjpeg's DCT scaling), and :func:`mmfusion.datasets.verify_image`
(what the converters and integrity checks run on every frame), as the
median CPU time of ``--repeats`` decodes in this process with OpenCV
single-threaded (as in the dataloader workers). The files are the real
FRED frames of ``tests/data`` and, with ``--generate N``, the first ``N``
RGB and event frames of a generated 1280x720 FRED sample.
"""
import argparse
import glob
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List

import cv2
import numpy as np

from mmfusion.datasets import decode_image, verify_image
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
REAL = [
    osp.join(REPO, 'tests', 'data', 'fred', 'real_samples', name)
    for name in ('night_rgb.jpg', 'night_ev.png')
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'files', nargs='*', help='image files (default: the real FRED frames)')
    parser.add_argument(
        '--generate',
        type=int,
        default=0,
        help='also time the first N RGB and event frames of a generated '
        '1280x720 FRED sample')
    parser.add_argument('--repeats', type=int, default=30)
    return parser.parse_args()


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median CPU time of ``fn`` in milliseconds (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times)) * 1e3


def time_file(path: str, repeats: int) -> Dict[str, float]:
    """The decode times of one file, by variant."""
    with open(path, 'rb') as f:
        data = f.read()
    buf = np.frombuffer(data, np.uint8)
    variants = {
        'cv2': lambda: cv2.imdecode(buf, cv2.IMREAD_COLOR),
        'strict': lambda: decode_image(data),
        'cv2 1/2': lambda: cv2.imdecode(buf, cv2.IMREAD_REDUCED_COLOR_2),
        'strict 1/2': lambda: decode_image(data, scale=2),
        'verify': lambda: verify_image(data),
    }
    return {name: median_ms(fn, repeats) for name, fn in variants.items()}


def generated_frames(root: str, num: int) -> List[str]:
    """The first ``num`` RGB and event frames of a generated sample."""
    generate_fred_sample(
        root,
        preset='large',
        seed=0,
        num_sequences=1,
        num_test=0,
        num_frames=max(num, 8))
    rgb = sorted(glob.glob(osp.join(root, '0', 'RGB', '*.jpg')))[:num]
    event = sorted(glob.glob(osp.join(root, '0', 'Event', 'Frames',
                                      '*.png')))[:num]
    return rgb + event


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(0)
    files = args.files or REAL
    with tempfile.TemporaryDirectory() as tmp:
        if args.generate:
            files = files + generated_frames(tmp, args.generate)
        rows = []
        for path in files:
            with open(path, 'rb') as f:
                h, w = decode_image(f.read()).shape[:2]
            rows.append(
                (path, w, h, osp.getsize(path), time_file(path, args.repeats)))
    names = list(rows[0][-1])
    header = ['file', 'size', 'bytes'] + [f'{n} (ms)' for n in names]
    print('| ' + ' | '.join(header) + ' |')
    print('|---' * len(header) + '|')
    for path, w, h, size, times in rows:
        name = osp.relpath(path, REPO) if path.startswith(REPO) else \
            osp.basename(path)
        cells = [name, f'{w}x{h}', str(size)]
        cells += [f'{times[n]:.2f}' for n in names]
        print('| ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
