import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...structures import OdometryDataSample


@TRANSFORMS.register_module()
class PackOdomInputs(BaseTransform):
    """Pack a frame pair into ``inputs`` and an :obj:`OdometryDataSample`.

    ``inputs`` holds, for the modalities present in ``results``:

    - imgs (Tensor): uint8 (2, 3, H, W), BGR, frames ``[t, t + k]``.
    - points (list[Tensor]): two float32 clouds (P_i, C), LiDAR frame.
    - points_mask (list[Tensor]): two bool masks (P_i,).
    - imu (Tensor): float32 (L, 6) ``[acc xyz, gyro xyz]``.
    - modality_mask (Tensor): bool (3,), ``[camera, lidar, imu]`` present.

    The data sample holds ``gt_pose`` (float32 (4, 4); absent for a sample
    without ground truth) and the metainfo
    ``seq``, ``frame_ids``, ``times``, ``has_imu``, ``sample_idx``, ``Tr``,
    ``P2``, ``imu_time`` and, when augmented, ``yaw_rotation``, when registered
    (:class:`OdomScanRegistration`), ``reg_prior`` (float32 (6, )) and
    ``reg_quality`` (float32 (Q, )), and with :class:`OdomImageQuality`
    ``img_quality`` (float32 (10, )).
    """

    META_KEYS = ('seq', 'frame_ids', 'times', 'has_imu', 'sample_idx', 'Tr',
                 'P2', 'img_shape', 'ori_shape', 'scale_factor',
                 'yaw_rotation', 'reg_prior', 'reg_quality', 'img_quality')

    def transform(self, results: dict) -> dict:
        modality = results.get('modality', {})
        inputs = {}
        camera = 'imgs' in results
        if camera:
            imgs = np.stack(results['imgs'])
            inputs['imgs'] = torch.from_numpy(
                np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
        lidar = 'points' in results
        if lidar:
            inputs['points'] = [c.tensor.float() for c in results['points']]
            masks = results.get('points_mask') or [
                np.ones(len(c), dtype=bool) for c in results['points']
            ]
            inputs['points_mask'] = [torch.from_numpy(m) for m in masks]
        use_imu = modality.get('use_imu', 'imu' in results)
        imu = results.get('imu')
        if use_imu and imu is not None:
            inputs['imu'] = torch.from_numpy(
                np.ascontiguousarray(imu[:, 1:], dtype=np.float32))
        has_imu = bool(
            use_imu and results.get('has_imu', False) and imu is not None
            and len(imu) > 0)
        inputs['modality_mask'] = torch.tensor(
            [camera and results.get('camera_valid', True), lidar, has_imu])

        sample = OdometryDataSample()
        if results.get('gt_pose') is not None:  # None: no ground truth
            sample.gt_pose = torch.from_numpy(
                np.asarray(results['gt_pose'], dtype=np.float32))
        meta = {k: results[k] for k in self.META_KEYS if k in results}
        meta['has_imu'] = has_imu
        if imu is not None:
            meta['imu_time'] = np.asarray(imu[:, 0], dtype=np.float64)
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)
