import torch
from mmengine.structures import BaseDataElement


class OdometryDataSample(BaseDataElement):
    """Data sample of one odometry frame pair ``(t, t + k)``.

    Data fields:

    - ``gt_pose`` (Tensor): Ground-truth relative pose
      ``inv(T_t) @ T_{t+k}`` in the camera-0 frame of frame ``t``,
      float32 (4, 4).
    - ``pred_pose`` (Tensor): Predicted relative pose, same convention.

    Meta information (set with ``set_metainfo``): ``seq`` (str), ``frame_ids``
    (tuple[int, int]), ``times`` (tuple[float, float]), ``has_imu`` (bool),
    ``sample_idx`` (int), and ``Tr`` (np.ndarray (4, 4), LiDAR -> camera 0).

    Examples:
        >>> import torch
        >>> sample = OdometryDataSample(metainfo=dict(seq='00'))
        >>> sample.gt_pose = torch.eye(4)
        >>> sample.gt_pose.shape
        torch.Size([4, 4])
    """

    @property
    def gt_pose(self) -> torch.Tensor:
        return self._gt_pose

    @gt_pose.setter
    def gt_pose(self, value: torch.Tensor) -> None:
        self.set_field(_check_pose(value, 'gt_pose'), '_gt_pose')

    @gt_pose.deleter
    def gt_pose(self) -> None:
        del self._gt_pose

    @property
    def pred_pose(self) -> torch.Tensor:
        return self._pred_pose

    @pred_pose.setter
    def pred_pose(self, value: torch.Tensor) -> None:
        self.set_field(_check_pose(value, 'pred_pose'), '_pred_pose')

    @pred_pose.deleter
    def pred_pose(self) -> None:
        del self._pred_pose


def _check_pose(value, name: str) -> torch.Tensor:
    """Check a pose is a (4, 4) tensor (a numpy array is converted)."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value)
    if tuple(value.shape[-2:]) != (4, 4):
        raise ValueError(
            f'{name} must have shape (4, 4), got {tuple(value.shape)}')
    return value
