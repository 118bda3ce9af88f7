"""Camera + LiDAR + IMU odometry network."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet3d.registry import MODELS
from mmdet3d.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor

from ..data_preprocessors import OdometryDataPreprocessor
from ..data_preprocessors.odometry_data_preprocessor import MODALITIES
from ..utils.so3_torch import pose_vector_to_matrix

# Column of each modality in ``inputs['modality_mask']``.
MODALITY_INDEX = {m: i for i, m in enumerate(MODALITIES)}
INPUT_KEYS = dict(
    visual=('imgs', None),
    point=('points', 'points_mask'),
    imu=('imu', 'imu_mask'))


@MODELS.register_module()
class TrimodalOdometry(BaseModel):
    """Relative-pose regression from a camera frame pair, a LiDAR scan pair
    and the IMU samples between the frames.

    ``extract_feat`` reads as the architecture: one encoder per modality
    (``encoders.visual``, ``encoders.point``, ``encoders.imu``; any of them
    may be None to switch the modality off), a fusion module, a pose head.

    Args:
        encoders (dict): Configs of the modality encoders, keys among
            ``'visual'``, ``'point'``, ``'imu'``; a None value switches the
            modality off.  Each encoder exposes ``out_channels``.
        fusion (dict): Config of the fusion module; ``modalities`` and
            ``in_channels`` are filled in from the encoders.
        pose_head (dict): Config of the pose head; ``in_channels`` is filled
            in from the fusion.
        required_modalities (Sequence[str]): Modalities every sample must
            have; the data preprocessor refuses a batch with a sample
            without one. Others may be absent per sample (``modality_mask``
            False), e.g. IMU for KITTI sequence 03. Defaults to ().
        self_supervised_loss (dict, optional): Config of a loss of the
            predicted poses that needs no ground truth,
            :class:`PhotometricReprojectionLoss` (added as
            ``loss_photometric``): with it a batch may hold samples without
            ``gt_pose`` (sequences without poses), trained by it alone.
            Defaults to None.
        data_preprocessor (dict, optional): Config of the data
            preprocessor. Defaults to None.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 encoders: Dict[str, OptConfigType],
                 fusion: ConfigType,
                 pose_head: ConfigType,
                 required_modalities: Sequence[str] = (),
                 self_supervised_loss: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        unknown = set(encoders) - set(MODALITIES)
        if unknown:
            raise ValueError(f'unknown encoders {sorted(unknown)}, expected '
                             f'keys among {MODALITIES}')
        self.modalities = tuple(
            m for m in MODALITIES if encoders.get(m) is not None)
        if not self.modalities:
            raise ValueError('at least one encoder must be configured')
        missing = set(required_modalities) - set(self.modalities)
        if missing:
            raise ValueError(f'required modalities {sorted(missing)} have '
                             'no encoder')
        self.required_modalities = tuple(required_modalities)
        self.encoders = torch.nn.ModuleDict(
            {m: MODELS.build(encoders[m])
             for m in self.modalities})
        fusion = dict(
            fusion,
            modalities=self.modalities,
            in_channels=[
                self.encoders[m].out_channels for m in self.modalities
            ])
        self.fusion = MODELS.build(fusion)
        self.pose_head = MODELS.build(
            dict(pose_head, in_channels=self.fusion.out_channels))
        self.self_supervised_loss = (None if self_supervised_loss is None else
                                     MODELS.build(self_supervised_loss))
        if isinstance(self.data_preprocessor, OdometryDataPreprocessor):
            # the samples of every batch are checked against them there,
            # on the host, before the inputs go to the device
            self.data_preprocessor.expect_modalities(self.modalities,
                                                     self.required_modalities)

    def _check_inputs(self, inputs: dict) -> Tensor:
        """Check the keys and shapes of the inputs (no value is read: the
        data are checked where they are loaded and batched, see
        :class:`OdometryDataPreprocessor`); return the (N, M) mask of the
        configured modalities."""
        for m in self.modalities:
            for key in INPUT_KEYS[m]:
                if key is not None and key not in inputs:
                    raise KeyError(f'the {m} encoder needs inputs[{key!r}], '
                                   f'got keys {sorted(inputs)}')
        first = inputs[INPUT_KEYS[self.modalities[0]][0]]
        n = first.shape[0]
        expected = dict(imgs=5, points=4, points_mask=3, imu=3, imu_mask=2)
        for key in (k for m in self.modalities for k in INPUT_KEYS[m] if k):
            x = inputs[key]
            if x.dim() != expected[key] or x.shape[0] != n:
                raise ValueError(
                    f'inputs[{key!r}] has shape {tuple(x.shape)}, '
                    f'expected {expected[key]} dims and batch size {n}')
        if 'visual' in self.modalities and inputs['imgs'].shape[1:3] != (2, 3):
            raise ValueError('inputs["imgs"] must be (N, 2, 3, H, W), got '
                             f'{tuple(inputs["imgs"].shape)}')
        for m, key, mask_key, dims in (('point', 'points', 'points_mask', 3),
                                       ('imu', 'imu', 'imu_mask', 2)):
            if m in self.modalities and \
                    inputs[mask_key].shape != inputs[key].shape[:dims]:
                raise ValueError(
                    f'{mask_key} shape {tuple(inputs[mask_key].shape)} does '
                    f'not match {key} {tuple(inputs[key].shape)}')
        full = inputs.get('modality_mask')
        if full is None:
            full = torch.ones(n, 3, dtype=torch.bool, device=first.device)
        elif full.shape != (n, 3):
            raise ValueError('inputs["modality_mask"] must be (N, 3) '
                             '[camera, lidar, imu], got '
                             f'{tuple(full.shape)}')
        return full.bool()[:, [MODALITY_INDEX[m] for m in self.modalities]]

    def extract_feat(
        self,
        inputs: dict,
        return_gates: bool = False,
        reg_quality: Optional[Tensor] = None,
        img_quality: Optional[Tensor] = None
    ) -> Union[Tensor, Tuple[Tensor, Optional[Tensor]]]:
        """Encode every modality and fuse.

        Args:
            inputs (dict): ``imgs`` (N, 2, 3, H, W), ``points`` (N, 2, P, C)
                with ``points_mask`` (N, 2, P), ``imu`` (N, L, 6) with
                ``imu_mask`` (N, L), ``modality_mask`` (N, 3); only the keys
                of the configured modalities are needed.
            return_gates (bool): Also return the fusion's per-modality
                gates (N, M) (:meth:`BaseOdomFusion.modality_gates`; None
                for a fusion without gates). Defaults to False.
            reg_quality (Tensor, optional): (N, Q) for a fusion that reads
                the registration quality (:meth:`registration_quality`).
                Defaults to None.
            img_quality (Tensor, optional): (N, Q_img) for a fusion that
                reads the image quality (:meth:`image_quality`).
                Defaults to None.

        Returns:
            Tensor | tuple: Fused features of shape (N, C), and the gates.
        """
        mask = self._check_inputs(inputs)
        feats = []
        for m in self.modalities:
            key, mask_key = INPUT_KEYS[m]
            args = (inputs[key], ) if mask_key is None else (inputs[key],
                                                             inputs[mask_key])
            feats.append(self.encoders[m](*args))
        return self.fusion(
            feats,
            mask,
            return_gates=return_gates,
            reg_quality=reg_quality,
            img_quality=img_quality)

    def registration_prior(self, inputs: dict,
                           data_samples: Optional[List[BaseDataElement]]
                           ) -> Optional[Tensor]:
        """Priors (N, 6) from the samples' ``reg_prior`` for a head that
        takes them (``uses_prior``), e.g. :class:`PriorResidualPoseHead`.

        A prior comes from the LiDAR scans (``OdomScanRegistration``), so a
        model without the point encoder gets none (None), nor does a sample
        whose LiDAR is marked absent (a NaN row, as for a sample without
        ``reg_prior``).
        """
        if (not getattr(self.pose_head, 'uses_prior', False)
                or data_samples is None or 'point' not in self.modalities):
            return None
        return self._modality_rows(inputs, data_samples, 'reg_prior', 6,
                                   float('nan'))

    def registration_quality(self, inputs: dict,
                             data_samples: Optional[List[BaseDataElement]]
                             ) -> Optional[Tensor]:
        """Registration-quality vectors (N, Q) from the samples'
        ``reg_quality`` (``OdomScanRegistration(quality=True)``) for a
        fusion that reads them (``quality_channels`` > 0); zeros for a
        sample whose LiDAR is marked absent.

        Raises:
            ValueError: A sample with LiDAR has no ``reg_quality`` or one
                of another size, naming the sample.
        """
        size = getattr(self.fusion, 'quality_channels', 0)
        if not size or data_samples is None:
            return None
        return self._modality_rows(inputs, data_samples, 'reg_quality', size,
                                   0.0, 'OdomScanRegistration(quality=True)')

    def image_quality(self, inputs: dict,
                      data_samples: Optional[List[BaseDataElement]]
                      ) -> Optional[Tensor]:
        """Image-quality vectors (N, Q_img) of the frame pairs from the
        samples' ``img_quality`` (:class:`OdomImageQuality`) for a fusion
        that reads them (``image_quality_channels`` > 0); zeros for a
        sample whose camera is marked absent.

        Raises:
            ValueError: A sample with a camera has no ``img_quality`` or
                one of another size, naming the sample.
        """
        size = getattr(self.fusion, 'image_quality_channels', 0)
        if not size or data_samples is None:
            return None
        return self._modality_rows(inputs, data_samples, 'img_quality', size,
                                   0.0, 'OdomImageQuality', 'visual')

    def quality_inputs(self, inputs: dict,
                       data_samples: Optional[List[BaseDataElement]]
                       ) -> Dict[str, Tensor]:
        """The quality inputs the fusion reads, as keyword arguments of
        :meth:`extract_feat`: ``reg_quality`` and ``img_quality``, each
        where the fusion reads it."""
        quality = dict(
            reg_quality=self.registration_quality(inputs, data_samples),
            img_quality=self.image_quality(inputs, data_samples))
        return {k: v for k, v in quality.items() if v is not None}

    @staticmethod
    def _modality_rows(inputs: dict,
                       data_samples: List[BaseDataElement],
                       key: str,
                       size: int,
                       fill: float,
                       required_by: Optional[str] = None,
                       modality: str = 'point') -> Tensor:
        """The metainfo ``key`` of every sample, (N, size) float32 on the
        device of the modality's input: ``fill`` where it is absent (or the
        sample's ``modality`` is), an error for it missing where
        ``required_by`` names what stores it, or for a row of another size
        or not finite."""
        present = inputs.get('modality_mask')
        column = MODALITY_INDEX[modality]
        rows = []
        for i, sample in enumerate(data_samples):
            value = sample.metainfo.get(key)
            where = (f'sample {i} (sequence {sample.metainfo.get("seq")} '
                     f'frames {sample.metainfo.get("frame_ids")})')
            if present is not None and not present[i, column]:
                value = None
            elif value is None and required_by is not None:
                raise ValueError(f'{where}: no {key}; the fusion reads it, '
                                 f'add {required_by} to the pipeline')
            if value is None:
                value = [fill] * size
            elif (np.shape(value) != (size, )
                  or not np.isfinite(np.asarray(value)).all()):
                raise ValueError(f'{where}: {key} must be {size} finite '
                                 f'values, got {value}')
            rows.append(torch.as_tensor(value, dtype=torch.float32))
        return torch.stack(rows).to(inputs[INPUT_KEYS[modality][0]].device)

    def _poses(self, feats: Tensor, prior: Optional[Tensor]) -> Tensor:
        """Pose vectors (N, 6) of the head, with the priors if any."""
        return self.pose_head(feats) if prior is None else self.pose_head(
            feats, prior)

    def loss(self, inputs: dict,
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """The pose head's losses on the samples with ``gt_pose`` and the
        self-supervised loss, if configured, on all.

        Args:
            inputs (dict): See :meth:`extract_feat`.
            data_samples (list[BaseDataElement]): The batch's samples.

        Returns:
            dict[str, Tensor]: ``loss_trans``, ``loss_rot`` (zero without
            a labelled sample) and ``loss_photometric``.
        """
        feats = self.extract_feat(inputs,
                                  **self.quality_inputs(inputs, data_samples))
        prior = self.registration_prior(inputs, data_samples)
        labelled = [i for i, s in enumerate(data_samples) if 'gt_pose' in s]
        if len(labelled) < len(data_samples) and \
                self.self_supervised_loss is None:
            raise ValueError(
                f'{len(data_samples) - len(labelled)} samples without '
                'gt_pose (e.g. sequences without poses) and no '
                'self_supervised_loss to train them')
        if len(labelled) == len(data_samples):
            args = (feats, data_samples) + (() if prior is None else (prior, ))
            losses = self.pose_head.loss(*args)
        else:
            pred = self._poses(feats, prior)
            losses = (
                self.pose_head.loss_by_pred(
                    pred[labelled], [data_samples[i]
                                     for i in labelled]) if labelled else
                dict(loss_trans=pred.sum() * 0.0, loss_rot=pred.sum() * 0.0))
        if self.self_supervised_loss is not None:
            losses['loss_photometric'] = self._photometric(
                inputs, data_samples, self._poses(feats, prior))
        return losses

    def _photometric(self, inputs: dict, data_samples: List[BaseDataElement],
                     pred: Tensor) -> Tensor:
        """:attr:`self_supervised_loss` of the poses ``pred`` (N, 6): the
        scan of frame ``t`` in its camera-0 frame (``Tr``) warped between
        the two images (``P2`` scaled by the images' ``scale_factor``);
        samples without camera or LiDAR (``modality_mask``) are left out.
        """
        for key in ('imgs', 'points', 'points_mask'):
            if key not in inputs:
                raise ValueError(f'the self-supervised loss needs the '
                                 f'input {key!r} (camera and LiDAR data)')
        device = pred.device
        Tr, P = [], []
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            if meta.get('P2') is None or 'Tr' not in meta:
                raise ValueError(
                    f'sample {i} (sequence {meta.get("seq")} frames '
                    f'{meta.get("frame_ids")}): the self-supervised loss '
                    'needs the calibration Tr and P2')
            sx, sy = meta.get('scale_factor', (1.0, 1.0))
            Tr.append(np.asarray(meta['Tr'], dtype=np.float64))
            P.append(np.diag([sx, sy, 1.0]) @ np.asarray(meta['P2']))
        Tr = torch.as_tensor(np.stack(Tr), dtype=pred.dtype, device=device)
        P = torch.as_tensor(np.stack(P), dtype=pred.dtype, device=device)
        points = inputs['points'][:, 0, :, :3].to(pred.dtype)
        points = torch.einsum('nij,nqj->nqi', Tr[:, :3, :3],
                              points) + Tr[:, None, :3, 3]
        mask = inputs['points_mask'][:, 0]
        if 'modality_mask' in inputs:
            usable = inputs['modality_mask'][:, :2].all(1)
            mask = mask & usable[:, None]
        return self.self_supervised_loss(inputs['imgs'], points, P,
                                         pose_vector_to_matrix(pred), mask)

    def forward(self,
                inputs: dict,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, Tensor], list, Tensor]:
        """Run the model in ``'loss'``, ``'predict'`` or ``'tensor'`` mode.

        Args:
            inputs (dict): See :meth:`extract_feat`.
            data_samples (list[BaseDataElement], optional): Samples with
                ``gt_pose`` (4, 4) for ``'loss'``.
            mode (str): ``'loss'`` returns a dict of losses, ``'predict'``
                the data samples with ``pred_pose`` (4, 4) and, for a gated
                fusion, ``pred_gates`` (M, ) (the weight of each modality,
                in the order of the metainfo ``gate_modalities``),
                ``'tensor'``
                the pose vectors (N, 6) (translation, axis-angle).

        Returns:
            dict | list | Tensor: See ``mode``.
        """
        if mode == 'loss':
            if data_samples is None:
                raise ValueError('mode "loss" needs data_samples')
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            feats, gates = self.extract_feat(
                inputs,
                return_gates=True,
                **self.quality_inputs(inputs, data_samples))
            prior = self.registration_prior(inputs, data_samples)
            poses = self.pose_head.predict(feats) if prior is None else \
                self.pose_head.predict(feats, prior)
            if data_samples is None:
                data_samples = [BaseDataElement() for _ in range(len(poses))]
            for i, (sample, pose) in enumerate(zip(data_samples, poses)):
                sample.pred_pose = pose.detach()
                if gates is not None:
                    sample.pred_gates = gates[i].detach()
                    sample.set_metainfo(dict(gate_modalities=self.modalities))
            return data_samples
        if mode == 'tensor':
            return self.pose_head(self.extract_feat(inputs))
        raise ValueError(f'invalid mode "{mode}", expected "loss", '
                         '"predict" or "tensor"')
