"""Geodesic rotation loss on axis-angle vectors."""
from typing import Optional

from mmdet3d.registry import MODELS
from mmdet.models.losses.utils import weighted_loss
from torch import Tensor, nn

from ..utils.so3_torch import axis_angle_to_matrix, rotation_geodesic_angle


@weighted_loss
def geodesic_rotation_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Angle in radians of ``R(pred)^T R(target)``, shape (N,)."""
    return rotation_geodesic_angle(
        axis_angle_to_matrix(pred), axis_angle_to_matrix(target))


@MODELS.register_module()
class GeodesicRotationLoss(nn.Module):
    """Angle of the rotation between prediction and target.

    Unlike an L1 loss on axis-angle vectors it does not depend on the
    parameterisation: it is the angle of ``R_pred^T @ R_gt``.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Predicted axis-angle vectors of shape (N, 3).
            target (Tensor): Target axis-angle vectors of shape (N, 3).
            weight (Tensor, optional): Per-sample weights of shape (N,).
            avg_factor (float, optional): Average factor of the mean.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The weighted loss.
        """
        reduction = reduction_override or self.reduction
        return self.loss_weight * geodesic_rotation_loss(
            pred, target, weight, reduction=reduction, avg_factor=avg_factor)
