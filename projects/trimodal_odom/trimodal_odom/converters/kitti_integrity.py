"""File checks of a KITTI odometry sequence: every frame has an image that
decodes and a well-sized point cloud."""
import os
import os.path as osp

from mmfusion.datasets import DataReport, ImageDecodeError, verify_image
from ..utils.kitti_io import KittiFormatError, load_velodyne

#: Missing files of one folder named in a report, at most.
MAX_NAMED = 20


def check_frame_files(root: str,
                      seq: str,
                      n: int,
                      report: DataReport,
                      deep: bool = False) -> None:
    """Check the image and the point cloud of every frame.

    Every image (``image_2/NNNNNN.png``) is decoded strictly (see
    :func:`mmfusion.datasets.verify_image`: truncated, zeroed or garbled
    data is an error); every cloud (``velodyne/NNNNNN.bin``) must be
    non-empty and a multiple of 16 bytes, and with ``deep`` is read and
    checked for NaN / inf.

    Args:
        root (str): KITTI odometry root.
        seq (str): Two-digit sequence name.
        n (int): Number of frames (lines of ``times.txt``).
        report (DataReport): Report to fill.
        deep (bool): Also read every point cloud. Defaults to False.
    """
    seq_dir = osp.join(root, 'sequences', seq)
    for sub, ext in (('image_2', 'png'), ('velodyne', 'bin')):
        folder = osp.join(seq_dir, sub)
        if not osp.isdir(folder):
            report.error('missing_folder', folder,
                         f'folder missing ({n} frames expected)')
            continue
        names = set(os.listdir(folder))
        missing = [i for i in range(n) if f'{i:06d}.{ext}' not in names]
        for i in missing[:MAX_NAMED]:
            report.error('missing_file', osp.join(folder, f'{i:06d}.{ext}'),
                         'file missing')
        if len(missing) > MAX_NAMED:
            report.error('missing_file', folder,
                         f'{len(missing)} files missing in all')
        extra = len(names) - (n - len(missing))
        if extra > 0:
            report.warn(
                'extra_files', folder,
                f'{extra} files beyond the {n} frames of times.txt are '
                'ignored')
            report.count(f'{sub} files ignored (beyond times.txt)', extra)
        present = [
            osp.join(folder, f'{i:06d}.{ext}') for i in range(n)
            if f'{i:06d}.{ext}' in names
        ]
        if ext == 'png':
            _check_images(present, report)
        else:
            _check_clouds(present, report, deep)


def _check_images(paths: list, report: DataReport) -> None:
    for path in paths:
        with open(path, 'rb') as f:
            data = f.read()
        try:
            verify_image(data)
        except ImageDecodeError as e:
            report.error('unreadable_image', path,
                         f'cannot decode image ({e})')


def _check_clouds(paths: list, report: DataReport, deep: bool) -> None:
    for path in paths:
        size = osp.getsize(path)
        if size == 0:
            report.error('empty_file', path,
                         'file is empty (0 bytes, no points)')
        elif size % 16:
            report.error(
                'bad_file_size', path, f'{size} bytes is not a multiple of '
                '16 (float32 x, y, z, reflectance)')
        elif deep:
            try:
                load_velodyne(path)
            except KittiFormatError as e:
                report.add_errors(e)
