"""File checks of a KITTI odometry sequence: every frame has its image and
a well-sized point cloud."""
import os
import os.path as osp

from mmfusion.datasets import DataReport


def check_frame_files(root: str, seq: str, n: int, report: DataReport) -> None:
    """Check that every frame has an image and a well-sized cloud.

    Args:
        root (str): KITTI odometry root.
        seq (str): Two-digit sequence name.
        n (int): Number of frames (lines of ``times.txt``).
        report (DataReport): Report to fill.
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
        for i in missing[:20]:
            report.error('missing_file', osp.join(folder, f'{i:06d}.{ext}'),
                         'file missing')
        if len(missing) > 20:
            report.error('missing_file', folder,
                         f'{len(missing)} files missing in all')
        extra = len(names) - (n - len(missing))
        if extra > 0:
            report.warn(
                'extra_files', folder,
                f'{extra} files beyond the {n} frames of times.txt are '
                'ignored')
            report.count(f'{sub} files ignored (beyond times.txt)', extra)
        if ext == 'bin':
            _check_cloud_sizes(folder, names, n, report)


def _check_cloud_sizes(folder: str, names: set, n: int,
                       report: DataReport) -> None:
    for i in range(n):
        name = f'{i:06d}.bin'
        if name not in names:
            continue
        path = osp.join(folder, name)
        size = osp.getsize(path)
        if size == 0:
            report.error('empty_file', path,
                         'file is empty (0 bytes, no points)')
        elif size % 16:
            report.error(
                'bad_file_size', path, f'{size} bytes is not a multiple of '
                '16 (float32 x, y, z, reflectance)')
