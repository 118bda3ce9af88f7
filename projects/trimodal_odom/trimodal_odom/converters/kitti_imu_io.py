"""Reader of the KITTI IMU resampled to the odometry frames (MATLAB files).

One file per odometry sequence, ``IMU_ROOT/XX.mat``, as published with
Visual-Selective-VIO (derived from the KITTI raw OXTS extract data):

* variable ``imu_data_interp``, float array of shape ``(10 (N - 1) + 1, 6)``
  for the ``N`` frames of the sequence;
* rows ``10 k .. 10 k + 10`` span frame ``k`` to frame ``k + 1`` (100 Hz
  nominal): row ``10 k + j`` is at ``t_k + j (t_{k+1} - t_k) / 10``;
* columns ``ax, ay, az`` (m/s^2, specific force: a unit at rest reads
  ``az = +9.81``) and ``wx, wy, wz`` (rad/s) in the IMU (OXTS) frame, x
  forward, y left, z up -- the frame and the channel order of the OXTS
  ``ax .. az`` / ``wx .. wz`` fields (:mod:`.oxts_io`).

The odometry targets are poses of the rectified camera 0.  A vector of the
IMU frame is brought into the Velodyne frame with the rotation of the raw
``calib_imu_to_velo.txt`` and into camera 0 with the rotation of the
odometry ``Tr`` (Velodyne -> rectified camera 0):
``v_cam = R(Tr) R(T_velo_imu) v_imu``.  :data:`KITTI_T_VELO_IMU` and
:data:`KITTI_ODOM_TR` hold the published values, for layouts that lack the
calibration files.

The reader raises :class:`KittiFormatError` naming the file.
"""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

from ..utils.kitti_io import kitti_error

IMU_MAT_KEY = 'imu_data_interp'
IMU_MAT_COLUMNS = ('ax', 'ay', 'az', 'wx', 'wy', 'wz')
#: Rows of the file per frame interval.
ROWS_PER_FRAME = 10

#: ``calib_imu_to_velo.txt`` of the KITTI raw data (the same file for every
#: recording date): IMU -> Velodyne.
KITTI_T_VELO_IMU = np.array([
    [9.999976e-01, 7.553071e-04, -2.035826e-03, -8.086759e-01],
    [-7.854027e-04, 9.998898e-01, -1.482298e-02, 3.195559e-01],
    [2.024406e-03, 1.482454e-02, 9.998881e-01, -7.997231e-01],
    [0.0, 0.0, 0.0, 1.0],
])
#: ``Tr`` of the odometry ``calib.txt`` (Velodyne -> rectified camera 0) by
#: raw recording date: 2011_10_03 holds sequences 00-02, 2011_09_30 04-10.
KITTI_ODOM_TR = {
    '2011_10_03':
    np.array([
        [
            4.276802385584e-04, -9.999672484946e-01, -8.084491683471e-03,
            -1.198459927713e-02
        ],
        [
            -7.210626507497e-03, 8.081198471645e-03, -9.999413164504e-01,
            -5.403984729748e-02
        ],
        [
            9.999738645903e-01, 4.859485810390e-04, -7.206933692422e-03,
            -2.921968648686e-01
        ],
        [0.0, 0.0, 0.0, 1.0],
    ]),
    '2011_09_30':
    np.array([
        [
            -1.857739385241e-03, -9.999659513510e-01, -8.039975204516e-03,
            -4.784029760483e-03
        ],
        [
            -6.481465826011e-03, 8.051860151134e-03, -9.999466081774e-01,
            -7.337429464231e-02
        ],
        [
            9.999773098287e-01, -1.805528627661e-03, -6.496203536139e-03,
            -3.339968064433e-01
        ],
        [0.0, 0.0, 0.0, 1.0],
    ]),
}


def expected_imu_rows(num_frames: int) -> int:
    """Rows of the IMU file of a sequence of ``num_frames`` frames."""
    return ROWS_PER_FRAME * (num_frames - 1) + 1


def _read_mat_variable(path: str) -> np.ndarray:
    """The ``imu_data_interp`` array of a MATLAB file, as stored."""
    if not osp.isfile(path):
        raise kitti_error('missing_file', path, 'file not found')
    try:
        mat = loadmat(path)
    except NotImplementedError:
        raise kitti_error(
            'unreadable_file', path,
            'MATLAB v7.3 (HDF5) files are not supported; save it with '
            "scipy.io.savemat or MATLAB's save(..., '-v7')") from None
    except (MatReadError, ValueError, TypeError, OSError) as e:
        raise kitti_error('unreadable_file', path,
                          f'not a readable MATLAB file ({e})') from None
    if IMU_MAT_KEY not in mat:
        names = sorted(k for k in mat if not k.startswith('__'))
        raise kitti_error('missing_variable', path,
                          f'no variable {IMU_MAT_KEY!r} (variables: {names})')
    return np.asarray(mat[IMU_MAT_KEY])


def load_kitti_imu(path: str, num_frames: Optional[int] = None) -> np.ndarray:
    """Read the IMU of one sequence.

    Args:
        path (str): The ``XX.mat`` file.
        num_frames (int, optional): Frames of the sequence; the file must
            then hold ``10 (num_frames - 1) + 1`` rows. Defaults to None
            (any length of that form).

    Returns:
        np.ndarray: Samples of shape (M, 6), float64, columns
        :data:`IMU_MAT_COLUMNS`.

    Raises:
        KittiFormatError: If the file is missing, not a MATLAB file, has
            no ``imu_data_interp``, a wrong shape or length, or NaN / inf.
    """
    data = _read_mat_variable(path)
    if data.ndim != 2 or data.shape[1] != len(IMU_MAT_COLUMNS):
        raise kitti_error(
            'bad_shape', path,
            f'{IMU_MAT_KEY} has shape {data.shape}, expected (M, 6) with '
            f'columns {", ".join(IMU_MAT_COLUMNS)}')
    if not np.issubdtype(data.dtype, np.number):
        raise kitti_error(
            'bad_shape', path,
            f'{IMU_MAT_KEY} holds {data.dtype}, expected numbers')
    rows = len(data)
    if num_frames is not None and rows != expected_imu_rows(num_frames):
        raise kitti_error(
            'count_mismatch', path,
            f'{rows} IMU rows, expected 10 (N - 1) + 1 = '
            f'{expected_imu_rows(num_frames)} for the N = {num_frames} '
            'frames of the sequence')
    if num_frames is None and (rows - 1) % ROWS_PER_FRAME:
        raise kitti_error(
            'count_mismatch', path,
            f'{rows} IMU rows is not of the form 10 (N - 1) + 1')
    data = data.astype(np.float64)
    finite = np.isfinite(data)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise kitti_error(
            'non_finite', path,
            f'NaN or inf in row {row} (frame {row // ROWS_PER_FRAME}), '
            f'column {IMU_MAT_COLUMNS[col]}; '
            f'{int((~finite).any(1).sum())} rows affected')
    return data


def _check_rows(imu: np.ndarray, num_frames: int) -> None:
    if len(imu) != expected_imu_rows(num_frames):
        raise ValueError(f'{len(imu)} IMU rows for {num_frames} frames, '
                         f'expected {expected_imu_rows(num_frames)}')


def kitti_imu_windows(imu: np.ndarray,
                      times: np.ndarray,
                      rotation: Optional[np.ndarray] = None,
                      offset: int = 0) -> List[Optional[dict]]:
    """Split the rows of a sequence into one IMU window per frame interval.

    Window ``k`` (frames ``k`` to ``k + 1``) holds rows ``10 k + offset ..
    10 k + offset + 9`` at the times ``t_k + j (t_{k+1} - t_k) / 10``,
    ``j = 0 .. 9`` -- the half-open interval, as the windows of the
    OXTS extract data.  ``offset`` moves the rows against the frames
    (positive: later rows), to correct a time lag between the recording and
    the frames.

    Args:
        imu (np.ndarray): Samples (10 (N - 1) + 1, 6) of
            :func:`load_kitti_imu`.
        times (np.ndarray): Frame times (N,), seconds.
        rotation (np.ndarray, optional): Rotation (3, 3) applied to both
            vectors, ``v_out = R v_imu``. Defaults to None (IMU frame).
        offset (int): Row offset. Defaults to 0.

    Returns:
        list[dict | None]: Per frame (N entries): ``time`` (10,), ``acc``
        (10, 3) and ``gyro`` (10, 3); None for the last frame and for
        windows whose rows lie outside the file.
    """
    n = len(times)
    _check_rows(imu, n)
    R = np.eye(3) if rotation is None else np.asarray(rotation)
    acc, gyro = imu[:, :3] @ R.T, imu[:, 3:] @ R.T
    frac = np.arange(ROWS_PER_FRAME) / ROWS_PER_FRAME
    windows: List[Optional[dict]] = [None] * n
    for k in range(n - 1):
        first = ROWS_PER_FRAME * k + offset
        if first < 0 or first + ROWS_PER_FRAME > len(imu):
            continue
        rows = slice(first, first + ROWS_PER_FRAME)
        windows[k] = dict(
            time=times[k] + frac * (times[k + 1] - times[k]),
            acc=acc[rows],
            gyro=gyro[rows])
    return windows


def resample_kitti_imu(imu: np.ndarray, frame_times: np.ndarray,
                       query_times: np.ndarray
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """IMU values at arbitrary times, linearly interpolated between rows.

    Row ``10 k + j`` lies at ``t_k + j (t_{k+1} - t_k) / 10``.

    Args:
        imu (np.ndarray): Samples (10 (N - 1) + 1, 6).
        frame_times (np.ndarray): The times (N,) given to the frames.
        query_times (np.ndarray): Times (K,) within
            ``[frame_times[0], frame_times[-1]]``.

    Returns:
        tuple[np.ndarray, np.ndarray]: Accelerations and angular rates,
        each (K, 3), in the IMU frame.
    """
    frame_times = np.asarray(frame_times, dtype=np.float64)
    query_times = np.asarray(query_times, dtype=np.float64)
    n = len(frame_times)
    _check_rows(imu, n)
    if query_times.min() < frame_times[0] - 1e-9 or \
            query_times.max() > frame_times[-1] + 1e-9:
        raise ValueError(
            f'query times {query_times.min():.3f}..{query_times.max():.3f} '
            f's leave the frames\' span {frame_times[0]:.3f}..'
            f'{frame_times[-1]:.3f} s')
    k = np.clip(
        np.searchsorted(frame_times, query_times, 'right') - 1, 0, n - 2)
    pos = ROWS_PER_FRAME * (
        k + (query_times - frame_times[k]) /
        (frame_times[k + 1] - frame_times[k]))
    rows = np.arange(len(imu))
    values = np.stack([np.interp(pos, rows, imu[:, c]) for c in range(6)],
                      axis=1)
    return values[:, :3], values[:, 3:]
