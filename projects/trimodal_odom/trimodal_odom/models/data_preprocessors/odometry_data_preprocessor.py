from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from mmengine.model import BaseDataPreprocessor

#: The modalities in the order of ``modality_mask``.
MODALITIES = ('visual', 'point', 'imu')


@MODELS.register_module()
class OdometryDataPreprocessor(BaseDataPreprocessor):
    """Normalise, pad and batch camera / LiDAR / IMU frame pairs.

    Expects the output of ``odom_collate`` (``inputs``: a list of N dicts
    made by ``PackOdomInputs``) and returns, on the model's device::

        {'inputs': {
            'imgs': float (N, 2, 3, H, W), normalised, [frame t, t + k],
            'points': float (N, 2, P, C), zero-padded, LiDAR frame,
            'points_mask': bool (N, 2, P), True for real points,
            'imu': float (N, L, 6), normalised [acc xyz, gyro xyz],
            'imu_mask': bool (N, L), False for padding,
            'modality_mask': bool (N, 3), [camera, lidar, imu] present},
         'data_samples': list of N OdometryDataSample}

    Contract of the targets and frames:

    - ``data_samples[i].gt_pose``: float32 (4, 4) ``inv(T_t) @ T_{t+k}``,
      the pose of frame ``t + k`` in the camera-0 frame of frame ``t``
      (KITTI pose frame); metainfo ``seq``, ``frame_ids``, ``times``,
      ``has_imu``, ``sample_idx``, ``Tr`` (LiDAR -> camera 0).
    - IMU vectors are in the frame chosen at conversion (``imu_frame``,
      LiDAR by default), normalised with the converter's statistics; the
      window holds the samples between frames ``t`` and ``t + k``.
    - ``H, W`` are the largest image size of the batch rounded up to
      ``pad_size_divisor``; ``P`` and ``L`` the largest cloud and IMU
      window (``L >= 1``).  A modality turned off in the config is absent
      from ``inputs``; a sample without it (``modality_mask`` False) has
      zeros there (images too, after normalisation).

    Every sample is checked on the host, before the batch goes to the
    device (no per-step device synchronisation): a sample marked with LiDAR
    must have points in both scans, one marked with IMU an IMU sample, and,
    for the model's modalities (:meth:`expect_modalities`), every sample
    must have one of them and all the required ones. An error names the
    sample's sequence and frames.

    Args:
        mean (Sequence[float], optional): Image mean per channel (after
            ``bgr_to_rgb``). Defaults to None (no normalisation).
        std (Sequence[float], optional): Image std per channel.
            Defaults to None.
        bgr_to_rgb (bool): Convert the BGR images to RGB. Defaults to True.
        pad_size_divisor (int): Pad images to a multiple of it.
            Defaults to 1.
        pad_value (float): Value of padded image pixels (after
            normalisation). Defaults to 0.
        non_blocking (bool): Non-blocking device transfer.
            Defaults to False.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 bgr_to_rgb: bool = True,
                 pad_size_divisor: int = 1,
                 pad_value: float = 0.0,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('mean and std must be given together')
        self._normalize = mean is not None
        if self._normalize:
            self.register_buffer('mean',
                                 torch.tensor(mean).view(1, 1, -1, 1, 1),
                                 False)
            self.register_buffer('std',
                                 torch.tensor(std).view(1, 1, -1, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value
        self.modalities: Sequence[str] = ()
        self.required_modalities: Sequence[str] = ()

    def expect_modalities(self,
                          modalities: Sequence[str],
                          required: Sequence[str] = ()) -> None:
        """Check every batch against the modalities of the model.

        Args:
            modalities (Sequence[str]): The model's modalities among
                ``'visual'``, ``'point'``, ``'imu'``; a sample needs one.
            required (Sequence[str]): Those every sample needs.
        """
        self.modalities = tuple(modalities)
        self.required_modalities = tuple(required)

    def _check_samples(self, samples: List[dict],
                       data_samples: Optional[list]) -> None:
        """Refuse a batch whose sample masks contradict their data or the
        model (all on the host)."""
        for i, s in enumerate(samples):
            meta = data_samples[i].metainfo if data_samples else {}
            where = (f'sample {i} (sequence {meta.get("seq")} frames '
                     f'{meta.get("frame_ids")})')
            present = dict(zip(MODALITIES, s['modality_mask'].tolist()))
            if present['point'] and 'points_mask' in s and not all(
                    bool(m.any()) for m in s['points_mask']):
                raise ValueError(f'{where} is marked with LiDAR but has an '
                                 'empty scan')
            if present['imu'] and 'imu' in s and len(s['imu']) == 0:
                raise ValueError(f'{where} is marked with IMU but has no '
                                 'IMU sample')
            if self.modalities and not any(present[m]
                                           for m in self.modalities):
                raise ValueError(f'{where} has none of the modalities '
                                 f'{self.modalities}')
            for m in self.required_modalities:
                if not present[m]:
                    raise ValueError(f'modality {m!r} is required but absent '
                                     f'in {where}')

    def _batch_imgs(self, imgs: List[torch.Tensor],
                    valid: torch.Tensor) -> torch.Tensor:
        h = max(img.shape[-2] for img in imgs)
        w = max(img.shape[-1] for img in imgs)
        d = self.pad_size_divisor
        h, w = -(-h // d) * d, -(-w // d) * d
        batch = []
        for img in imgs:
            img = img.float()
            if self.bgr_to_rgb:
                img = img.flip(-3)
            if self._normalize:
                img = (img - self.mean[0]) / self.std[0]
            img = F.pad(
                img, (0, w - img.shape[-1], 0, h - img.shape[-2]),
                value=self.pad_value)
            batch.append(img)
        out = torch.stack(batch)
        return out * valid.view(-1, 1, 1, 1, 1).to(out.dtype)

    @staticmethod
    def _batch_points(clouds: List[List[torch.Tensor]],
                      masks: List[List[torch.Tensor]]):
        n = len(clouds)
        p = max(max(len(c) for c in pair) for pair in clouds)
        c = clouds[0][0].shape[-1]
        ref = clouds[0][0]
        points = ref.new_zeros((n, 2, p, c), dtype=torch.float32)
        mask = torch.zeros((n, 2, p), dtype=torch.bool, device=ref.device)
        for i, (pair, mpair) in enumerate(zip(clouds, masks)):
            if len(pair) != 2:
                raise ValueError(f'sample {i}: expected 2 point clouds, got '
                                 f'{len(pair)}')
            for j, (cloud, m) in enumerate(zip(pair, mpair)):
                points[i, j, :len(cloud)] = cloud
                mask[i, j, :len(cloud)] = m
        points = points * mask.unsqueeze(-1)
        return points, mask

    @staticmethod
    def _batch_imu(windows: List[torch.Tensor]):
        n = len(windows)
        length = max(1, max(len(w) for w in windows))
        ref = windows[0]
        imu = ref.new_zeros((n, length, 6), dtype=torch.float32)
        mask = torch.zeros((n, length), dtype=torch.bool, device=ref.device)
        for i, w in enumerate(windows):
            imu[i, :len(w)] = w
            mask[i, :len(w)] = True
        return imu, mask

    def forward(self, data: dict, training: bool = False) -> dict:
        """Check, normalise, pad and batch the inputs of ``odom_collate``.

        Args:
            data (dict): ``inputs`` (list of N dicts) and ``data_samples``.
            training (bool): Unused; same processing in both modes.

        Returns:
            dict: ``inputs`` (dict of batched tensors, see the class
            docstring) and ``data_samples``.
        """
        samples = data['inputs']
        if not isinstance(samples, (list, tuple)):
            raise TypeError('OdometryDataPreprocessor expects the inputs of '
                            "odom_collate (collate_fn=dict(type="
                            "'odom_collate')), got "
                            f'{type(samples).__name__}')
        keys = set(samples[0])
        for i, s in enumerate(samples):
            if set(s) != keys:
                raise ValueError(f'sample {i} has inputs {sorted(s)}, sample '
                                 f'0 has {sorted(keys)}')
        self._check_samples(samples, data.get('data_samples'))
        data = self.cast_data(data)
        samples = data['inputs']
        modality = torch.stack([s['modality_mask'] for s in samples])
        inputs = dict(modality_mask=modality)
        if 'imgs' in keys:
            inputs['imgs'] = self._batch_imgs([s['imgs'] for s in samples],
                                              modality[:, 0])
        if 'points' in keys:
            inputs['points'], inputs['points_mask'] = self._batch_points(
                [s['points'] for s in samples],
                [s['points_mask'] for s in samples])
        if 'imu' in keys:
            inputs['imu'], inputs['imu_mask'] = self._batch_imu(
                [s['imu'] for s in samples])
            inputs['imu_mask'] &= modality[:, 2:3]
            inputs['imu'] = inputs['imu'] * inputs['imu_mask'].unsqueeze(-1)
        return dict(inputs=inputs, data_samples=data['data_samples'])
