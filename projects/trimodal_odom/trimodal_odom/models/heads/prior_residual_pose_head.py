"""Pose head that refines a geometric prior (e.g. LiDAR ICP)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet3d.registry import MODELS
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from ..utils import pose_vector_to_matrix
from .pose_regression_head import PoseRegressionHead


@MODELS.register_module()
class PriorResidualPoseHead(PoseRegressionHead):
    """Predict a correction of a prior relative pose where there is one,
    and regress the pose as :class:`PoseRegressionHead` where there is not.

    With a prior ``p`` (a pose vector (6, ): translation, axis-angle, e.g.
    from :class:`OdomScanRegistration`) the output is
    ``p + residual_std * fc_res(mlp(x))``; ``fc_res`` starts at zero, so
    training starts from the prior and learns where to correct it.
    Without one (no LiDAR, a failed registration) the output is
    ``pose_mean + pose_std * fc(mlp(x))`` as in the parent. In training a
    prior is hidden with probability ``prior_dropout``, so that both paths
    learn. The rotation correction is added to the axis-angle vector
    (first order, fine for the small corrections it learns).

    With ``residual_penalty`` the loss also has ``loss_residual``, the
    absolute correction outputs ``fc_res(mlp(x))`` (6 values in units of
    ``residual_std``; 0 for a sample without a prior) weighted by it and
    summed, averaged over the batch: a shrinkage that
    keeps the correction at zero, i.e. the output at the prior, unless it
    lowers the pose loss by more than that (a good prior is not worsened
    by a correction the features cannot justify).

    Args:
        residual_std (Sequence[float]): Scale of the 6 correction outputs
            (m, rad). Defaults to (0.02, 0.02, 0.02, 0.002, 0.002, 0.002).
        prior_dropout (float): Probability to hide a sample's prior in
            training. Defaults to 0.2.
        residual_penalty (float | Sequence[float]): Weight of
            ``loss_residual``, one for all 6 corrections or one each
            (translation, then rotation); 0 for none. Defaults to 0.
        **kwargs: :class:`PoseRegressionHead`'s arguments.
    """
    #: TrimodalOdometry passes registration priors to heads that set this.
    uses_prior = True

    def __init__(self,
                 *args,
                 residual_std: Sequence[float] = (0.02, 0.02, 0.02, 0.002,
                                                  0.002, 0.002),
                 prior_dropout: float = 0.2,
                 residual_penalty: Union[float, Sequence[float]] = 0.0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        std = torch.as_tensor(residual_std, dtype=torch.float32)
        if std.shape != (6, ) or not (std > 0).all():
            raise ValueError('residual_std must be 6 positive values, got '
                             f'{residual_std}')
        if not 0.0 <= prior_dropout < 1.0:
            raise ValueError(
                f'prior_dropout must be in [0, 1), got {prior_dropout}')
        penalty = torch.as_tensor(residual_penalty, dtype=torch.float32)
        if penalty.dim() == 0:
            penalty = penalty.expand(6).clone()
        if penalty.shape != (6, ) or not (penalty >= 0).all():
            raise ValueError('residual_penalty must be >= 0 (one value or '
                             f'6), got {residual_penalty}')
        self.prior_dropout = prior_dropout
        # known at construction: the loss need not read the buffer back
        self._penalised = bool(penalty.any())
        self.register_buffer('residual_penalty', penalty, persistent=False)
        self.register_buffer('residual_std', std, persistent=False)
        self.fc_res = nn.Linear(self.fc_trans.in_features, 6)
        self._zero_residual()

    def _zero_residual(self) -> None:
        nn.init.zeros_(self.fc_res.weight)
        nn.init.zeros_(self.fc_res.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_residual()

    def forward(self, x: Tensor, prior: Optional[Tensor] = None) -> Tensor:
        """Decode poses.

        Args:
            x (Tensor): Fused features of shape (N, C).
            prior (Tensor, optional): Prior pose vectors (N, 6); rows with
                NaN mean no prior. Defaults to None (no priors).

        Returns:
            Tensor: Pose vectors of shape (N, 6): translation, axis-angle.
        """
        return self._decode(x, prior)[0]

    def _decode(self,
                x: Tensor,
                prior: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Pose vectors (N, 6) and the correction outputs (N, 6) of the
        samples with a prior (0 rows for the others), in units of
        ``residual_std``."""
        h = self.mlp(x)
        regressed = torch.cat([self.fc_trans(
            h), self.fc_rot(h)], dim=1) * self.pose_std + self.pose_mean
        if prior is None:
            return regressed, regressed.new_zeros((len(x), 6))
        if prior.shape != regressed.shape:
            raise ValueError(f'prior must be {tuple(regressed.shape)}, got '
                             f'{tuple(prior.shape)}')
        has_prior = torch.isfinite(prior).all(dim=1, keepdim=True)
        residual = self.fc_res(h) * has_prior
        refined = prior.nan_to_num() + residual * self.residual_std
        return torch.where(has_prior, refined, regressed), residual

    def loss(self,
             x: Tensor,
             data_samples: List[BaseDataElement],
             prior: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of :class:`PoseRegressionHead` on the refined poses.

        Args:
            x (Tensor): Fused features of shape (N, C).
            data_samples (list[BaseDataElement]): Samples with ``gt_pose``.
            prior (Tensor, optional): Prior pose vectors (N, 6), NaN rows
                for none.

        Returns:
            dict[str, Tensor]: ``loss_trans`` and ``loss_rot``, with
            ``residual_penalty`` also ``loss_residual``.
        """
        if prior is not None and self.training and self.prior_dropout > 0:
            hide = torch.rand(len(prior), device=prior.device) < \
                self.prior_dropout
            prior = prior.masked_fill(hide[:, None], float('nan'))
        pred, residual = self._decode(x, prior)
        losses = self.loss_by_pred(pred, data_samples)
        if self._penalised:
            losses['loss_residual'] = (residual.abs() *
                                       self.residual_penalty).sum(1).mean()
        return losses

    def predict(self, x: Tensor, prior: Optional[Tensor] = None) -> Tensor:
        """Relative poses (N, 4, 4); see :meth:`forward` for ``prior``."""
        return pose_vector_to_matrix(self(x, prior))
