from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...utils.imu_integration import lidar_to_imu_frame
from ...utils.se3 import se3_inverse


def yaw_matrix(angle: float) -> np.ndarray:
    """Rotation (3, 3) of ``angle`` radians about +z (counter-clockwise)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotate_relative_pose(T_cam: np.ndarray, R_z: np.ndarray,
                         Tr: np.ndarray) -> np.ndarray:
    """Camera-0 relative pose after rotating the LiDAR frame by ``R_z``.

    With ``p' = R_z p`` for the points of both clouds, the LiDAR-frame
    motion ``T_L = inv(Tr) @ T_cam @ Tr`` becomes ``R_z T_L R_z^T``, and the
    camera-0 target, through the unchanged ``Tr``, becomes
    ``M @ T_cam @ inv(M)`` with ``M = Tr @ R_z4 @ inv(Tr)``.

    Args:
        T_cam (np.ndarray): Relative pose (4, 4) in the camera-0 frame.
        R_z (np.ndarray): Rotation (3, 3) applied to the LiDAR points.
        Tr (np.ndarray): LiDAR -> camera-0 transform (4, 4).

    Returns:
        np.ndarray: The rotated target (4, 4).
    """
    R4 = np.eye(4)
    R4[:3, :3] = R_z
    M = Tr @ R4 @ se3_inverse(Tr)
    return M @ T_cam @ se3_inverse(M)


@TRANSFORMS.register_module()
class OdomGlobalYawRotation(BaseTransform):
    """Rotate both clouds of a pair about the LiDAR z axis, keeping the
    relative-pose target (and the IMU) consistent.

    The same ``R_z`` rotates the two clouds; the camera-0 target becomes
    ``M @ T_rel @ inv(M)``, ``M = Tr @ R_z @ inv(Tr)``
    (:func:`rotate_relative_pose`), i.e. the true motion between the
    rotated clouds expressed in the camera-0 frame.  The IMU vectors are
    rotated by the same rotation expressed in their frame (``R_z`` for
    ``'lidar'``, ``R_vi^T R_z R_vi`` for ``'imu'``, ``R_c R_z R_c^T`` for
    ``'camera'``); gravity, along z, is kept.  An image cannot follow a
    yaw of the rig, so samples with images raise (``camera='error'``) or
    keep them but mark the camera absent (``camera='drop'``,
    ``modality_mask[0]`` False).  Place it before :class:`NormalizeOdomIMU`
    and :class:`OdomScanRegistration`.

    Required Keys: ``points``, ``gt_pose``, ``Tr``; ``imu``, ``imu_frame``,
    ``T_velo_imu`` if IMU is used.

    Modified Keys: ``points``, ``gt_pose``, ``imu``; adds ``yaw_rotation``
    (float, radians) and ``camera_valid`` (bool) when rotated.

    Args:
        rot_range (Sequence[float]): Range of the angle (radians).
            Defaults to (-pi / 4, pi / 4).
        prob (float): Probability to rotate a sample. Defaults to 1.0.
        camera (str): ``'error'`` or ``'drop'``, see above.
            Defaults to 'error'.
    """

    def __init__(self,
                 rot_range: Sequence[float] = (-np.pi / 4, np.pi / 4),
                 prob: float = 1.0,
                 camera: str = 'error') -> None:
        if camera not in ('error', 'drop'):
            raise ValueError(
                f"camera must be 'error' or 'drop', got {camera!r}")
        self.rot_range = tuple(rot_range)
        self.prob = prob
        self.camera = camera

    def _imu_rotation(self, results: dict, R_z: np.ndarray) -> np.ndarray:
        C = lidar_to_imu_frame(results['imu_frame'], results['Tr'],
                               results.get('T_velo_imu'))
        return C @ R_z @ C.T

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        if 'imgs' in results and self.camera == 'error':
            raise ValueError(
                'OdomGlobalYawRotation: images cannot follow a LiDAR yaw '
                "rotation; turn the camera off or set camera='drop'")
        if results.get('imu_normalized', False):
            raise ValueError('OdomGlobalYawRotation must come before '
                             'NormalizeOdomIMU in the pipeline')
        if 'reg_prior' in results:
            raise ValueError('OdomGlobalYawRotation must come before '
                             'OdomScanRegistration in the pipeline (the '
                             'prior follows the rotation there)')
        angle = float(np.random.uniform(*self.rot_range))
        R_z = yaw_matrix(angle)
        for cloud in results['points']:
            # BasePoints.rotate multiplies row vectors: p' = p @ R_z^T.
            cloud.rotate(torch.from_numpy(R_z.T).to(cloud.tensor.dtype))
        if results.get('gt_pose') is not None:
            results['gt_pose'] = rotate_relative_pose(results['gt_pose'], R_z,
                                                      results['Tr'])
        imu = results.get('imu')
        if imu is not None and len(imu):
            R = self._imu_rotation(results, R_z).astype(np.float32)
            imu = imu.copy()
            imu[:, 1:4] = imu[:, 1:4] @ R.T
            imu[:, 4:7] = imu[:, 4:7] @ R.T
            results['imu'] = imu
        if 'imgs' in results:
            results['camera_valid'] = False
        results['yaw_rotation'] = angle
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(rot_range={self.rot_range}, '
                f'prob={self.prob}, camera={self.camera!r})')
