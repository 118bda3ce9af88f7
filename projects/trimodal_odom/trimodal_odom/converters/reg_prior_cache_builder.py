"""Compute the registration priors of KITTI sequences once, in parallel.

Reads the info files of ``kitti_odom_converter.py`` for the frames and
their scans and writes one :class:`RegPriorCache` file per sequence
(format in :mod:`.reg_prior_cache`). A sequence is split into chunks of
consecutive pairs; in a chunk every scan is read and prepared once and
serves as the target of one pair and the source of the previous one.
Chunks run in ``nproc`` processes behind a progress bar per sequence with
the time left (:func:`mmfusion.utils.progress.track_tasks`). The chunk
boundaries do not depend on ``nproc``, and every pair is registered from
the identity, so the priors are the same for any ``nproc`` and equal to
:class:`OdomScanRegistration`'s on-the-fly registration of the same scans.
A sequential registration (``predict``: each pair registered from the
motion predicted from the previous pair's estimate) runs a sequence as one
chunk, its pairs in order; a pair that failed predicts the next from the
prediction it had.
A deskewing registration (``deskew``) takes the time between the frames
from the infos and, for ``'imu'``, the rotation integrated from their IMU
window (the registration's own where a pair has none).
A registration that fills its remapped directions with the camera's
motion (``fill_camera``) estimates it for every pair from the two frames'
images (``img_path`` of the infos, ``P2`` of the calibration) and the
earlier scan, starting from the pair's prediction (and, for a
registration predicted with the IMU, given the pair's gyro rotation, which
``VisualMotion(hold_rotation=True)`` keeps); the cache also holds
that estimate (``visual_pose``, ``visual_inliers``) and whether it went
into the prior (``filled``).
"""
import json
import os
import os.path as osp
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import mmengine
import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log

from mmfusion.utils.progress import track_tasks
from ..datasets.odom_info_file import (INFO_VERSION, info_file_name,
                                       parse_sequences)
from ..datasets.reg_prior_cache import (REG_PRIOR_VERSION, RegPriorCache,
                                        reg_prior_file_name, scan_fingerprint,
                                        settings_json)
from ..datasets.transforms.odom_scan_registration import registration_settings
from ..utils.imu_integration import gyro_lidar_rotation
from ..utils.kitti_io import KittiFormatError, kitti_error, load_velodyne
from ..utils.registration import ScanRegistration
from ..utils.se3 import pose_to_vector
from ..utils.visual_motion import camera_from_velo

_PAIR_FIELDS = ('pose', 'converged', 'iterations', 'num_correspondences',
                'error', 'hessian', 'num_source_points', 'deskewed_with')
# the per-pair arrays of a cache file: name, dtype, shape
_ARRAYS = (('frame_ids', np.int64, (-1, 2)), ('pose', np.float64, (-1, 6)),
           ('converged', bool, (-1, )), ('iterations', np.int64, (-1, )),
           ('num_correspondences', np.int64, (-1, )),
           ('error', np.float64, (-1, )), ('hessian', np.float64, (-1, 6, 6)),
           ('num_source_points', np.int64, (-1, )), ('deskewed_with', str,
                                                     (-1, )))
# the arrays of a registration that fills with the camera's motion
_VISUAL_ARRAYS = (('filled', bool, (-1, )), ('visual_pose', np.float64,
                                             (-1, 6)), ('visual_inliers',
                                                        np.int64, (-1, )))


def _load_gray(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise kitti_error(
            'missing_file' if not osp.isfile(path) else 'corrupt_file', path,
            'image cannot be read')
    return image


def _register_chunk(task: Tuple[List[str], int, int, dict, list,
                                Optional[dict]]) -> dict:
    """Register the pairs ``(i, i + k)`` of a chunk of scan paths.

    Args:
        task (tuple): Scan paths (the chunk's frames and the ``k`` after
            them), index of its first frame, frame gap ``k``, the
            :class:`ScanRegistration` settings, per pair the time between
            its frames and the gyro rotation (or None) and, with
            ``fill_camera``, the camera: ``images`` (paths, as the scans),
            ``K`` (3, 3) and ``T_cam_velo`` (4, 4).

    Returns:
        dict: Arrays of the chunk's pairs (see :data:`_PAIR_FIELDS`, with
        ``fill_camera`` also :data:`_VISUAL_ARRAYS`) and ``frame_ids``.
    """
    paths, first, gap, cfg, motion, camera = task
    reg = ScanRegistration(**cfg)
    visual = reg.fill_camera
    scans, images = {}, {}

    def image(i):
        if i not in images:
            images[i] = _load_gray(camera['images'][i])
            images.pop(i - gap - 1, None)
        return images[i]

    def scan(i):
        if i not in scans:
            points = load_velodyne(paths[i])
            scans[i] = points, reg.prepare(points, paths[i])
            scans.pop(i - gap - 1, None)
        return scans[i]

    fields = _PAIR_FIELDS + ('frame_ids', )
    if visual is not None:
        fields += tuple(name for name, _, _ in _VISUAL_ARRAYS)
    out = {key: [] for key in fields}
    previous = None
    for i in range(len(paths) - gap):
        (target, prep_t), (source, prep_s) = scan(i), scan(i + gap)
        dt, imu_rotation = motion[i]
        fill = None
        if visual is not None:
            # the gyro's rotation only where the registration uses the IMU
            T_vis, vis = visual.estimate(
                image(i), image(i + gap), target,
                camera['K'], camera['T_cam_velo'],
                reg.prediction(previous, imu_rotation), dt,
                imu_rotation if reg.predict == 'imu' else None)
            fill = T_vis if vis['converged'] else None
            out['visual_pose'].append(pose_to_vector(T_vis))
            out['visual_inliers'].append(vis['num_inliers'])
        T, info = reg.register(source, target, dt, imu_rotation,
                               (prep_s, prep_t), previous, fill)
        if reg.sequential:
            previous = T if info['converged'] or info['filled'] else info[
                'prediction']
        info['deskewed_with'] = info.pop('deskew') or ''
        out['frame_ids'].append((first + i, first + i + gap))
        out['pose'].append(pose_to_vector(T))
        for key in _PAIR_FIELDS[1:]:
            out[key].append(info[key])
        if visual is not None:
            out['filled'].append(info['filled'])
    return out


def _camera(frames: List[dict], meta: dict, root: str, info_path: str) -> dict:
    """The images, intrinsics and LiDAR-to-camera transform of a
    sequence, for ``fill_camera``."""
    calib = meta.get('calib', {})
    if calib.get('P2') is None:
        raise kitti_error(
            'malformed_file', info_path, 'fill_camera needs the colour '
            "camera's projection matrix P2, which the calibration lacks")
    K, T_cam_velo = camera_from_velo(calib['Tr'], calib['P2'])
    images = []
    for f in frames:
        if not f.get('img_path'):
            raise kitti_error(
                'malformed_file', info_path,
                f'frame {f.get("frame_id")} has no image (fill_camera)')
        images.append(osp.join(root, f['img_path']))
    missing = [p for p in images if not osp.isfile(p)]
    if missing:
        raise kitti_error(
            'missing_file', missing[0],
            f'image not found ({len(missing)} of the sequence missing)')
    return dict(images=images, K=K, T_cam_velo=T_cam_velo)


def _pair_motion(frames: List[dict], meta: dict, gap: int) -> list:
    """Per pair ``(t, t + gap)``: the time between its frames and the
    rotation of the LiDAR integrated from the gyro of its IMU window (None
    without one)."""
    calib = meta['calib']
    Tr = np.asarray(calib['Tr'], dtype=np.float64)
    T_velo_imu = calib.get('T_velo_imu')
    out = []
    for t in range(len(frames) - gap):
        windows = [f['imu'] for f in frames[t:t + gap]]
        t_end = frames[t + gap]['timestamp']
        rotation = None
        if all(w is not None and len(w['time']) for w in windows):
            imu = np.concatenate(
                [np.c_[w['time'], w['acc'], w['gyro']] for w in windows])
            rotation = gyro_lidar_rotation(
                imu, t_end, meta['imu']['frame'], Tr,
                None if T_velo_imu is None else np.asarray(T_velo_imu))
        out.append((t_end - frames[t]['timestamp'], rotation))
    return out


def _load_frames(info_path: str, seq: str) -> Tuple[List[dict], dict]:
    if not osp.isfile(info_path):
        raise kitti_error(
            'missing_file', info_path,
            f'info file of sequence {seq} not found; create it '
            'with python tools/dataset_converters/kitti_odom_converter.py')
    info = mmengine.load(info_path)
    meta = info.get('metainfo', {}) if isinstance(info, dict) else {}
    if meta.get('info_version') != INFO_VERSION or 'data_list' not in info:
        raise kitti_error(
            'malformed_file', info_path, f'not a version {INFO_VERSION} '
            'info file; convert the data again')
    return info['data_list'], meta


def _up_to_date(path: str, settings: dict, seq: str, gap: int,
                rel_paths: List[str], prints: np.ndarray) -> bool:
    try:
        cache = RegPriorCache(path, settings, seq)
    except KittiFormatError:
        return False
    return cache.describes(rel_paths, prints, gap)


def _registration_steps(node: Any, where: str, found: list) -> None:
    """Collect the ``OdomScanRegistration`` steps under a config node."""
    if isinstance(node, dict):
        if str(node.get('type', '')).split('.')[-1] == 'OdomScanRegistration':
            found.append((where, node))
            return
        for key, value in node.items():
            _registration_steps(value, f'{where}.{key}', found)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _registration_steps(value, f'{where}[{i}]', found)


def registration_cfg_from_config(config: str) -> Dict[str, Any]:
    """The :class:`ScanRegistration` settings of a config's
    ``OdomScanRegistration``, for the cache of its priors.

    Args:
        config (str): Path of the config.

    Returns:
        dict: The settings of the step (without ``type`` and the
        transform's own options, ``prior_cache`` and ``quality``), the same
        in the train, val and test pipelines.

    Raises:
        ValueError: The config has no ``OdomScanRegistration`` in its
            dataloaders, or its pipelines use different settings (one
            cache cannot serve them; the message lists each).
    """
    cfg = Config.fromfile(config)
    found: list = []
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _registration_steps(cfg.get(split), split, found)
    if not found:
        raise ValueError(f'{config}: no OdomScanRegistration step in the '
                         'dataloaders\' pipelines, so no priors to cache')
    variants: Dict[str, list] = {}
    for where, step in found:
        settings = registration_settings(step)
        # the same values written as a tuple or a list are one setting
        key = json.dumps(settings, sort_keys=True, default=str)
        variants.setdefault(key, []).append((where, settings))
    if len(variants) > 1:
        listing = '; '.join(f'{group[0][0]}: {group[0][1]}'
                            for group in variants.values())
        raise ValueError(f'{config}: the OdomScanRegistration steps differ, '
                         f'so one cache cannot serve them: {listing}')
    return next(iter(variants.values()))[0][1]


def build_reg_prior_cache(root: str,
                          sequences: Optional[Sequence] = None,
                          info_dir: str = 'infos',
                          out_dir: Optional[str] = None,
                          pts_root: Optional[str] = None,
                          frame_gap: int = 1,
                          nproc: int = 1,
                          chunk_size: int = 50,
                          force: bool = False,
                          **registration) -> List[str]:
    """Compute and store the registration priors of KITTI sequences.

    Args:
        root (str): KITTI odometry root (holds ``INFO_DIR``).
        sequences (Sequence, optional): Sequences (``'00,01'``, a list of
            ints or strings). Defaults to every sequence with an info file.
        info_dir (str): Folder of the info files, relative to ``root``.
            Defaults to 'infos'.
        out_dir (str, optional): Folder of the cache files. Defaults to
            the info folder.
        pts_root (str, optional): Root the infos' ``lidar_path`` are
            relative to (the dataset's ``data_prefix.pts``). Defaults to
            ``root``.
        frame_gap (int): ``k`` of the pairs ``(t, t + k)``. Defaults to 1.
        nproc (int): Worker processes. Defaults to 1.
        chunk_size (int): Pairs of a task. Defaults to 50.
        force (bool): Recompute sequences whose cache is up to date (same
            settings, frame gap, scan paths and fingerprints).
            Defaults to False.
        **registration: Settings of :class:`ScanRegistration`.

    Returns:
        list[str]: The cache files written (up-to-date ones are skipped).

    Raises:
        KittiFormatError: A missing or malformed info file or scan, naming
            it.
    """
    if frame_gap < 1 or chunk_size < 1 or nproc < 1:
        raise ValueError('frame_gap, chunk_size and nproc must be >= 1, got '
                         f'{frame_gap}, {chunk_size} and {nproc}')
    reg = ScanRegistration(**registration)
    settings = reg.settings()
    info_root = osp.join(root, info_dir)
    out_dir = info_root if out_dir is None else out_dir
    pts_root = root if pts_root is None else pts_root
    if sequences is None:
        names = os.listdir(info_root) if osp.isdir(info_root) else []
        sequences = sorted(name[len('kitti_odom_infos_'):-len('.pkl')]
                           for name in names
                           if name.startswith('kitti_odom_infos_'))
        if not sequences:
            raise kitti_error(
                'missing_file', info_root,
                f'no info files; create them with python '
                f'tools/dataset_converters/kitti_odom_converter.py {root}')
    mmengine.mkdir_or_exist(out_dir)
    written = []
    for seq in parse_sequences(sequences):
        frames, meta = _load_frames(
            osp.join(info_root, info_file_name(seq)), seq)
        rel_paths = [f['lidar_path'] for f in frames]
        paths = [osp.join(pts_root, p) for p in rel_paths]
        for path in paths:
            if not osp.isfile(path):
                raise kitti_error('missing_file', path,
                                  'point cloud not found')
        prints = np.array([scan_fingerprint(p) for p in paths],
                          dtype=np.int64).reshape(-1, 2)
        out_path = osp.join(out_dir, reg_prior_file_name(seq))
        if not force and _up_to_date(out_path, settings, seq, frame_gap,
                                     rel_paths, prints):
            print_log(
                f'sequence {seq}: {out_path} is up to date', logger='current')
            continue
        num_pairs = max(len(frames) - frame_gap, 0)
        motion = _pair_motion(frames, meta, frame_gap)
        if reg.sequential:
            # each pair needs the one before it: one chunk
            chunk_size = max(num_pairs, 1)
        camera = None
        if reg.fill_camera is not None:
            camera = _camera(frames, meta, root,
                             osp.join(info_root, info_file_name(seq)))
        tasks = []
        for s in range(0, num_pairs, chunk_size):
            end = min(s + chunk_size, num_pairs) + frame_gap
            chunk_camera = None if camera is None else dict(
                camera, images=camera['images'][s:end])
            tasks.append((paths[s:end], s, frame_gap, registration,
                          motion[s:s + chunk_size], chunk_camera))
        print_log(
            f'sequence {seq}: registering {num_pairs} pairs (frame gap '
            f'{frame_gap}) in {len(tasks)} chunks, {nproc} processes',
            logger='current')
        start = time.perf_counter()
        chunks = list(track_tasks(_register_chunk, tasks, nproc))
        elapsed = time.perf_counter() - start
        arrays = {}
        extra = _VISUAL_ARRAYS if reg.fill_camera is not None else ()
        for key, dtype, shape in _ARRAYS + extra:
            values = [v for chunk in chunks for v in chunk[key]]
            arrays[key] = np.asarray(values, dtype=dtype).reshape(shape)
        tmp = out_path + '.tmp'
        with open(tmp, 'wb') as f:
            np.savez(
                f,
                version=np.array(REG_PRIOR_VERSION),
                seq=np.array(seq),
                settings=np.array(settings_json(settings)),
                frame_gap=np.array(frame_gap),
                lidar_paths=np.array(rel_paths, dtype=str),
                scan_bytes=prints[:, 0],
                scan_crc=prints[:, 1],
                **arrays)
        os.replace(tmp, out_path)
        written.append(out_path)
        failed = int((~arrays['converged']).sum())
        per_pair = elapsed * min(nproc, len(tasks) or 1) / max(num_pairs, 1)
        print_log(
            f'sequence {seq}: {num_pairs} priors ({failed} failed '
            f'registrations) in {elapsed:.1f} s, about '
            f'{1000 * per_pair:.1f} ms a pair in one process -> {out_path}',
            logger='current',
            level=30 if failed else 20)
    return written
