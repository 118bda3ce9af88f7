from typing import Optional, Tuple

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.datasets.transforms import LoadPointsFromFile
from mmdet3d.registry import TRANSFORMS

from mmfusion.datasets import decode_image
from ...utils.kitti_io import kitti_error


def _get_bytes(path: str, backend_args: Optional[dict], what: str) -> bytes:
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise kitti_error('missing_file', path, f'{what} not found') from None


@TRANSFORMS.register_module()
class LoadOdomImages(BaseTransform):
    """Load the two images of a frame pair, optionally resized.

    Required Keys:

    - img_paths (list[str]): Paths of frame ``t`` and ``t + k``.

    Added Keys:

    - imgs (list[np.ndarray]): Two (H, W, 3) uint8 BGR images.
    - img_shape (tuple[int, int]), ori_shape (tuple[int, int]),
      scale_factor (tuple[float, float]): ``(h, w)`` and ``(w, h)`` ratios.

    Args:
        scale (tuple[int, int], optional): ``(w, h)`` to resize both images
            to (aspect ratio not kept, as KITTI images of different
            sequences differ by a few pixels). Defaults to None.
        color_type (str): ``mmcv.imfrombytes`` flag. Defaults to 'color'.
        imdecode_backend (str): Decoding backend: ``'cv2'`` decodes
            strictly (:func:`mmfusion.datasets.decode_image`: a truncated,
            zeroed or garbled image is an error naming the file, never
            damaged pixels); other ``mmcv.imfrombytes`` backends decode as
            mmcv does. Defaults to 'cv2'.
        backend_args (dict, optional): File backend arguments.
            Defaults to None.
    """

    def __init__(self,
                 scale: Optional[Tuple[int, int]] = None,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.scale = tuple(scale) if scale is not None else None
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        imgs = []
        for path in results['img_paths']:
            imgs.append(
                self._decode(
                    _get_bytes(path, self.backend_args, 'image'), path))
        ori_shape = imgs[0].shape[:2]
        if self.scale is None and imgs[1].shape[:2] != ori_shape:
            raise kitti_error(
                'size_mismatch', results['img_paths'][1],
                f'image size {imgs[1].shape[:2]} differs from {ori_shape} of '
                f'{results["img_paths"][0]}')
        if self.scale is not None:
            imgs = [mmcv.imresize(img, self.scale) for img in imgs]
        h, w = imgs[0].shape[:2]
        results['imgs'] = imgs
        results['ori_shape'] = ori_shape
        results['img_shape'] = (h, w)
        results['scale_factor'] = (w / ori_shape[1], h / ori_shape[0])
        return results

    def _decode(self, img_bytes: bytes, path: str) -> np.ndarray:
        try:
            if self.imdecode_backend == 'cv2':
                return decode_image(img_bytes, self.color_type)
            img = mmcv.imfrombytes(
                img_bytes, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as e:  # ImageDecodeError; mmcv's backends vary
            raise kitti_error('unreadable_image', path,
                              f'cannot decode image ({e})') from None
        if img is None:
            raise kitti_error('unreadable_image', path,
                              'cannot decode image (corrupt or not an image)')
        return img

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'color_type={self.color_type!r})')


@TRANSFORMS.register_module()
class LoadOdomPoints(LoadPointsFromFile):
    """Load the two point clouds of a frame pair.

    Follows :class:`mmdet3d.datasets.transforms.LoadPointsFromFile` (float32
    records of ``load_dim`` values, ``use_dim`` columns kept, points wrapped
    in ``LiDARPoints``) and checks every file: its size must be a multiple
    of ``4 * load_dim`` bytes and its values finite.

    Required Keys:

    - lidar_paths (list[str]): Paths of frame ``t`` and ``t + k``.

    Added Keys:

    - points (list[:obj:`LiDARPoints`]): The two clouds, (P_i, len(use_dim)).

    Args:
        coord_type (str): Coordinate type. Defaults to 'LIDAR'.
        load_dim (int): Values per point on disk. Defaults to 4.
        use_dim (int | list[int]): Columns kept. Defaults to 4.
        **kwargs: Other arguments of ``LoadPointsFromFile``.
    """

    def __init__(self,
                 coord_type: str = 'LIDAR',
                 load_dim: int = 4,
                 use_dim=4,
                 **kwargs) -> None:
        super().__init__(
            coord_type=coord_type,
            load_dim=load_dim,
            use_dim=use_dim,
            **kwargs)

    def _load_points(self, pts_filename: str) -> np.ndarray:
        pts_bytes = _get_bytes(pts_filename, self.backend_args, 'point cloud')
        record = 4 * self.load_dim
        if not pts_bytes:
            raise kitti_error('empty_file', pts_filename,
                              'file is empty (0 bytes, no points)')
        if len(pts_bytes) % record:
            raise kitti_error(
                'bad_file_size', pts_filename,
                f'{len(pts_bytes)} bytes is not a multiple of {record} '
                f'(float32 x {self.load_dim})')
        points = np.frombuffer(pts_bytes, dtype=np.float32)
        if not np.all(np.isfinite(points)):
            bad = int((~np.isfinite(points.reshape(-1, self.load_dim))).any(
                axis=1).sum())
            raise kitti_error('non_finite', pts_filename,
                              f'{bad} points with NaN or inf')
        return points.copy()

    def transform(self, results: dict) -> dict:
        results['points'] = [
            super(LoadOdomPoints,
                  self).transform(dict(lidar_points=dict(
                      lidar_path=path)))['points']
            for path in results['lidar_paths']
        ]
        return results
