import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import mmengine
import numpy as np
from mmdet3d.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..utils.kitti_io import KittiFormatError, kitti_error, kitti_report
from ..utils.se3 import relative_pose
from .odom_info_file import INFO_VERSION, info_file_name, parse_sequences


@DATASETS.register_module()
class KittiOdometryDataset(BaseDataset):
    """KITTI odometry frame pairs with camera, LiDAR and IMU.

    Reads the info files written by
    ``tools/dataset_converters/kitti_odom_converter.py`` (one per sequence,
    ``DATA_ROOT/INFO_DIR/kitti_odom_infos_XX.pkl``).  A sample is the pair
    of frames ``(t, t + frame_gap)`` of one sequence, with

    - ``gt_pose``: ``inv(T_t) @ T_{t+k}``, the pose of frame ``t + k`` in
      the camera-0 frame of frame ``t`` (float64 (4, 4); packed as float32),
      None in a sequence without ground truth (``allow_unlabelled``),
    - ``img_paths`` / ``lidar_paths``: the two frames' files,
    - ``imu``: float32 (L, 7) ``[time, acc xyz, gyro xyz]``, the IMU samples
      of the frame intervals ``t .. t + k - 1`` (frame of the infos,
      ``imu_frame``), or (0, 7) when missing (``has_imu`` False),
    - ``Tr`` (LiDAR -> camera 0), ``P2`` (camera 0 -> pixels of image 2,
      (3, 4); None without calibration), ``T_velo_imu``, ``imu_frame``.

    Args:
        data_root (str): KITTI odometry root.
        sequences (str | int | Sequence): Sequences as ``'00,01,...'``, a
            list of ints or of strings (zero padded to 2 digits).
        info_dir (str): Folder of the info files, relative to
            ``data_root``. Defaults to 'infos'.
        frame_gap (int): ``k``, the frame distance of a pair. Defaults to 1.
        frame_stride (int): Distance between the first frames of two
            consecutive samples. Defaults to 1.
        modality (dict): ``use_camera``, ``use_lidar``, ``use_imu``.
            Defaults to all True. IMU only, the sequence folders are not
            needed and info files converted IMU-only are accepted.
        imu_missing (str): A sample without IMU is kept with ``has_imu``
            False (``'zero'``), dropped and counted (``'drop'``), or raises
            (``'error'``). Defaults to 'zero'.
        imu_max_len (int, optional): Windows longer than this are linearly
            resampled to ``imu_max_len`` samples spanning the same time
            (counted and logged). Defaults to None (keep all).
        allow_unlabelled (bool): Accept sequences converted without poses
            (KITTI 11-21), their samples without ``gt_pose``, for
            self-supervised training; otherwise they raise. Defaults to
            False.
        check_files (bool): Check at load that every used image / cloud
            exists and every cloud is non-empty, its size a multiple of 16
            bytes. Defaults to True.
        data_prefix (dict): ``img`` / ``pts`` roots the relative paths of
            the infos are joined to. Defaults to ``dict(img='', pts='')``
            (``data_root``).
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset='KITTI odometry')

    def __init__(self,
                 data_root: str,
                 sequences: Union[str, int, Sequence],
                 info_dir: str = 'infos',
                 frame_gap: int = 1,
                 frame_stride: int = 1,
                 modality: Optional[dict] = None,
                 imu_missing: str = 'zero',
                 imu_max_len: Optional[int] = None,
                 allow_unlabelled: bool = False,
                 check_files: bool = True,
                 data_prefix: Optional[dict] = None,
                 pipeline: List[Union[dict, Callable]] = [],
                 test_mode: bool = False,
                 **kwargs) -> None:
        if frame_gap < 1 or frame_stride < 1:
            raise ValueError('frame_gap and frame_stride must be >= 1, got '
                             f'{frame_gap} and {frame_stride}')
        if imu_missing not in ('zero', 'drop', 'error'):
            raise ValueError("imu_missing must be 'zero', 'drop' or "
                             f"'error', got {imu_missing!r}")
        if imu_max_len is not None and imu_max_len < 2:
            raise ValueError(f'imu_max_len must be >= 2, got {imu_max_len}')
        self.sequences = parse_sequences(sequences)
        self.info_dir = info_dir
        self.frame_gap = frame_gap
        self.frame_stride = frame_stride
        self.modality = dict(use_camera=True, use_lidar=True, use_imu=True)
        self.modality.update(modality or {})
        self.imu_missing = imu_missing
        self.imu_max_len = imu_max_len
        self.allow_unlabelled = allow_unlabelled
        self.check_files = check_files
        self.report = kitti_report()
        super().__init__(
            ann_file='',
            data_root=data_root,
            data_prefix=data_prefix or dict(img='', pts=''),
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def _load_info(self, seq: str) -> Tuple[dict, str]:
        """Load and check the info file of one sequence; returns the info
        and its path.  Info files converted IMU-only (no images or scans)
        serve only a modality without camera and LiDAR."""
        seq_dir = osp.join(self.data_root, 'sequences', seq)
        sensors = self.modality['use_camera'] or self.modality['use_lidar']
        if sensors and not osp.isdir(seq_dir):
            raise kitti_error('missing_sequence', seq_dir,
                              f'sequence {seq} not found: searched {seq_dir}')
        path = osp.join(self.data_root, self.info_dir, info_file_name(seq))
        if not osp.isfile(path):
            raise kitti_error(
                'missing_info_file', path,
                f'info file of sequence {seq} not found; create it with '
                'python tools/dataset_converters/kitti_odom_converter.py '
                f'{self.data_root}')
        info = mmengine.load(path)
        meta = info.get('metainfo', {}) if isinstance(info, dict) else {}
        if meta.get('info_version') != INFO_VERSION or meta.get(
                'seq') != seq or 'data_list' not in info:
            raise kitti_error(
                'stale_info_file', path,
                f'not a version {INFO_VERSION} info file of sequence {seq}; '
                'convert the data again')
        if sensors and meta.get('imu_only'):
            raise kitti_error(
                'imu_only_info_file', path,
                f'converted IMU-only (--imu-only), but the modality '
                f'{self.modality} uses the camera or the LiDAR; convert the '
                'sequence with its images and scans')
        return info, path

    def _check_frame(self, img_path: str, lidar_path: str) -> None:
        if self.modality['use_camera'] and not osp.isfile(img_path):
            self.report.error('missing_file', img_path, 'image missing')
        if not self.modality['use_lidar']:
            return
        if not osp.isfile(lidar_path):
            self.report.error('missing_file', lidar_path,
                              'point cloud missing')
        elif osp.getsize(lidar_path) == 0:
            self.report.error('empty_file', lidar_path,
                              'file is empty (0 bytes, no points)')
        elif osp.getsize(lidar_path) % 16:
            self.report.error(
                'bad_file_size', lidar_path,
                f'{osp.getsize(lidar_path)} bytes is not a multiple of 16 '
                '(float32 x, y, z, reflectance)')

    def _imu_window(self, frames: List[dict],
                    where: str) -> Optional[np.ndarray]:
        """Concatenate the IMU of frame intervals into (L, 7) or None; a
        window with NaN or inf (a damaged info file) is an error about
        ``where``."""
        parts = []
        for frame in frames:
            imu = frame['imu']
            if imu is None:
                return None
            parts.append(
                np.concatenate([imu['time'][:, None], imu['acc'], imu['gyro']],
                               axis=1))
        window = np.concatenate(parts).astype(np.float32)
        if not np.all(np.isfinite(window)):
            self.report.error(
                'non_finite', where,
                f'NaN or inf in the IMU of frames {frames[0]["frame_id"]}..'
                f'{frames[-1]["frame_id"] + 1}')
        if self.imu_max_len is not None and len(window) > self.imu_max_len:
            self.report.count(
                f'IMU windows resampled to imu_max_len={self.imu_max_len}')
            t = window[:, 0].astype(np.float64)
            grid = np.linspace(t[0], t[-1], self.imu_max_len)
            window = np.stack(
                [grid] +
                [np.interp(grid, t, window[:, c]) for c in range(1, 7)],
                axis=1).astype(np.float32)
        return window

    def load_data_list(self) -> List[dict]:
        """Build the frame-pair samples of every configured sequence.

        Returns:
            list[dict]: One dict per sample (see the class docstring).
        """
        if not osp.isdir(self.data_root):
            raise kitti_error('missing_root', self.data_root,
                              'data root not found (no such folder)')
        data_list = []
        for seq in self.sequences:
            # The problems of every sequence are reported together.
            try:
                data_list.extend(self._sequence_samples(seq))
            except KittiFormatError as e:
                self.report.add_errors(e)
        self.report.raise_if_errors()
        if self.report.counts or self.report.warnings:
            self.report.log()
        print_log(
            f'{self.__class__.__name__}: {len(data_list)} samples (frame '
            f'gap {self.frame_gap}) from sequences {",".join(self.sequences)}',
            logger='current')
        return data_list

    def _sequence_samples(self, seq: str) -> List[dict]:
        """The samples of one sequence (problems go to :attr:`report`)."""
        info, info_path = self._load_info(seq)
        meta, frames = info['metainfo'], info['data_list']
        use_imu = self.modality['use_imu']
        imu_meta = meta['imu']
        if use_imu and not imu_meta['available']:
            reason = imu_meta.get('missing_reason') or 'no IMU data'
            if self.imu_missing == 'error':
                raise kitti_error(
                    'missing_imu', info_path,
                    f'sequence {seq} has no IMU ({reason}); set '
                    "imu_missing='zero' or 'drop' to use it anyway")
            if self.imu_missing == 'drop':
                self.report.warn('missing_imu', info_path,
                                 f'sequence {seq} dropped: {reason}')
                self.report.count('sequences dropped (no IMU)')
                return []
            self.report.count('sequences without IMU (has_imu False)')
        labelled = meta.get('has_poses', True)
        if not labelled and not self.allow_unlabelled:
            raise kitti_error(
                'missing_poses', info_path,
                f'sequence {seq} has no ground-truth poses; set '
                'allow_unlabelled=True to use it without targets')
        nan = np.full((4, 4), np.nan)  # no pose
        poses = np.asarray([f['pose'] if labelled else nan for f in frames],
                           dtype=np.float64)
        if labelled and not np.all(np.isfinite(poses)):
            self.report.error('non_finite', info_path,
                              f'NaN or inf in the poses of sequence {seq}')
        common = dict(
            seq=seq,
            imu_frame=imu_meta['frame'],
            Tr=np.asarray(meta['calib']['Tr'], dtype=np.float64),
            P2=(None if meta['calib'].get('P2') is None else np.asarray(
                meta['calib']['P2'], dtype=np.float64)),
            T_velo_imu=(None
                        if meta['calib']['T_velo_imu'] is None else np.asarray(
                            meta['calib']['T_velo_imu'], dtype=np.float64)),
            modality=dict(self.modality))
        samples = []
        k = self.frame_gap
        for t in range(0, len(frames) - k, self.frame_stride):
            imu = self._imu_window(frames[t:t +
                                          k], info_path) if use_imu else None
            if use_imu and imu is None and imu_meta['available']:
                if self.imu_missing == 'error':
                    raise kitti_error(
                        'missing_imu', info_path,
                        f'sequence {seq}: no IMU between frames {t} and '
                        f'{t + k}; set imu_missing to zero or drop')
                if self.imu_missing == 'drop':
                    self.report.count('samples dropped (no IMU window)')
                    continue
                self.report.count('samples without IMU window')
            samples.append(
                self._sample(frames[t], frames[t + k], poses[t], poses[t + k],
                             imu, common))
        return samples

    def _sample(self, a: dict, b: dict, pose_a: np.ndarray, pose_b: np.ndarray,
                imu: Optional[np.ndarray], common: dict) -> dict:
        """The data info of the frame pair ``(a, b)``."""
        img_root = self.data_prefix.get('img', '') or self.data_root
        pts_root = self.data_prefix.get('pts', '') or self.data_root
        paths = [(osp.join(img_root,
                           f['img_path']), osp.join(pts_root, f['lidar_path']))
                 for f in (a, b)]
        if self.check_files:
            for img_path, lidar_path in paths:
                self._check_frame(img_path, lidar_path)
        return dict(
            common,
            frame_ids=(a['frame_id'], b['frame_id']),
            times=(a['timestamp'], b['timestamp']),
            img_paths=[p[0] for p in paths],
            lidar_paths=[p[1] for p in paths],
            gt_pose=(relative_pose(pose_a, pose_b)
                     if np.isfinite(pose_a).all() else None),
            imu=(imu if imu is not None else np.zeros(
                (0, 7), dtype=np.float32)),
            has_imu=imu is not None,
            modality=dict(self.modality))
