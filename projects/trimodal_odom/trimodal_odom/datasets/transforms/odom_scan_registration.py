"""Geometric prior of the relative pose: ICP between the two LiDAR scans."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS
from mmengine.logging import print_log

from ...utils.icp import point_to_plane_icp
from ...utils.se3 import pose_to_vector, se3_inverse


@TRANSFORMS.register_module()
class OdomScanRegistration(BaseTransform):
    """Register the second scan of a pair onto the first with point-to-plane
    ICP (:func:`~..utils.icp.point_to_plane_icp`) and store the motion as a
    prior for :class:`PriorResidualPoseHead`.

    ICP gives ``T_L`` with ``scan_t ~= T_L @ scan_{t+k}`` in the LiDAR
    frame; the prior is ``Tr @ T_L @ inv(Tr)`` in the camera-0 frame (the
    convention of ``gt_pose``), stored as a pose vector: translation (m)
    and axis-angle (rad). Place it after the augmentations that move the
    clouds (``OdomGlobalYawRotation``), so that the prior follows the
    target, and before ``OdomPointDropout`` / ``OdomPointSample``: ICP is
    accurate on full scans.  Samples without LiDAR are passed through.
    A failed registration (too few correspondences) stores no prior, so
    the head falls back to regression; it is logged with the sample's
    sequence and frames.

    Required Keys: ``points`` (two clouds), ``Tr``.
    Added Keys: ``reg_prior`` (np.ndarray float32 (6, )) when registered,
    ``reg_info`` (dict: ``converged``, ``iterations``,
    ``num_correspondences``, ``rmse``).

    Args:
        min_range (float): Points nearer to the sensor (m), e.g. returns
            of the vehicle itself, are left out. Defaults to 2.0.
        max_iters (int): ICP iterations. Defaults to 30.
        max_dist (Sequence[float]): Correspondence gate (m) of the first
            and last iteration. Defaults to (2.0, 0.15).
        num_neighbors (int): Neighbours of a target normal. Defaults to 10.
        huber (float): Huber threshold (m). Defaults to 0.1.
        min_correspondences (int): Fewest correspondences of a successful
            registration. Defaults to 100.
    """

    def __init__(self,
                 min_range: float = 2.0,
                 max_iters: int = 30,
                 max_dist: Sequence[float] = (2.0, 0.15),
                 num_neighbors: int = 10,
                 huber: float = 0.1,
                 min_correspondences: int = 100) -> None:
        if len(max_dist) != 2 or not 0 < max_dist[1] <= max_dist[0]:
            raise ValueError('max_dist must be (first, last) gates with '
                             f'0 < last <= first, got {max_dist}')
        self.min_range = min_range
        self.icp_cfg = dict(
            max_iters=max_iters,
            max_dist=tuple(max_dist),
            num_neighbors=num_neighbors,
            huber=huber,
            min_correspondences=min_correspondences)

    def _xyz(self, cloud) -> np.ndarray:
        xyz = cloud.tensor[:, :3].numpy().astype(np.float64)
        return xyz[np.linalg.norm(xyz, axis=1) > self.min_range]

    def transform(self, results: dict) -> dict:
        clouds = results.get('points')
        if clouds is None:
            return results
        if len(clouds) != 2:
            raise ValueError('OdomScanRegistration needs two clouds, got '
                             f'{len(clouds)}')
        Tr = np.asarray(results['Tr'], dtype=np.float64)
        try:
            T_lidar, info = point_to_plane_icp(
                self._xyz(clouds[1]), self._xyz(clouds[0]), **self.icp_cfg)
        except ValueError as e:
            raise ValueError(
                f'OdomScanRegistration: sequence {results.get("seq")} '
                f'frames {results.get("frame_ids")}: {e}') from e
        results['reg_info'] = info
        if not info['converged']:
            print_log(
                'OdomScanRegistration: ICP failed for sequence '
                f'{results.get("seq")} frames {results.get("frame_ids")} '
                f'({info["num_correspondences"]} correspondences in '
                f'iteration {info["iterations"]}); no prior',
                logger='current',
                level=30)
            return results
        T_cam = Tr @ T_lidar @ se3_inverse(Tr)
        results['reg_prior'] = pose_to_vector(T_cam).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_range={self.min_range}, '
                f'{", ".join(f"{k}={v}" for k, v in self.icp_cfg.items())})')
