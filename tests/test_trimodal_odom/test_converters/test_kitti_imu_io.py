import os.path as osp

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from projects.trimodal_odom.trimodal_odom.converters.kitti_imu_io import (
    kitti_imu_windows, load_kitti_imu, resample_kitti_imu)
from projects.trimodal_odom.trimodal_odom.utils import (KittiFormatError,
                                                        so3_exp)

DATA = osp.join(osp.dirname(__file__), '..', '..', 'data', 'kitti')
# Real KITTI IMU of sequence 00, frames 600-1000 (4001 rows).
REAL_IMU = osp.join(DATA, 'imus', '00_frames0600-1000.mat')


def _write(path, **variables):
    savemat(str(path), variables)
    return str(path)


def test_load_real_file():
    imu = load_kitti_imu(REAL_IMU, num_frames=401)
    assert imu.shape == (4001, 6) and imu.dtype == np.float64
    # specific force: gravity up along the IMU's z axis
    assert 9.5 < imu[:, 2].mean() < 10.1
    np.testing.assert_array_equal(imu, loadmat(REAL_IMU)['imu_data_interp'])


@pytest.mark.parametrize('variables, num_frames, message', [
    (dict(imu=np.zeros((21, 6))), 3,
     r"no variable 'imu_data_interp' \(variables: \['imu'\]\)"),
    (dict(imu_data_interp=np.zeros((21, 5))), 3,
     r'shape \(21, 5\), expected \(M, 6\)'),
    (dict(imu_data_interp=np.zeros((31, 6))), 3,
     r'31 IMU rows, expected 10 \(N - 1\) \+ 1 = 21 for the N = 3 frames'),
    (dict(imu_data_interp=np.zeros((25, 6))), None,
     r'25 IMU rows is not of the form'),
])
def test_load_rejects_bad_content(tmp_path, variables, num_frames, message):
    path = _write(tmp_path / '05.mat', **variables)
    with pytest.raises(KittiFormatError, match=message) as e:
        load_kitti_imu(path, num_frames)
    assert str(e.value).startswith(path)


def test_load_rejects_nan_naming_row_and_column(tmp_path):
    data = np.zeros((21, 6))
    data[13, 4] = np.nan
    path = _write(tmp_path / '05.mat', imu_data_interp=data)
    with pytest.raises(
            KittiFormatError,
            match=r'05.mat: NaN or inf in row 13 \(frame 1\), column wy'):
        load_kitti_imu(path, 3)


def test_load_rejects_missing_and_non_mat_files(tmp_path):
    with pytest.raises(KittiFormatError, match='09.mat: file not found'):
        load_kitti_imu(str(tmp_path / '09.mat'))
    text = tmp_path / '09.mat'
    text.write_text('0 0 9.81 0 0 0\n')
    with pytest.raises(
            KittiFormatError, match='09.mat: not a readable MATLAB file'):
        load_kitti_imu(str(text))


def test_windows_rows_times_rotation_and_offset():
    imu = np.arange(31 * 6, dtype=np.float64).reshape(31, 6)
    times = np.array([0.0, 0.1, 0.3, 0.4])
    R = so3_exp(np.array([0.1, -0.2, 0.3]))
    windows = kitti_imu_windows(imu, times, R)
    assert windows[-1] is None and all(w is not None for w in windows[:-1])
    np.testing.assert_allclose(windows[1]['time'], 0.1 + 0.02 * np.arange(10))
    np.testing.assert_allclose(windows[1]['acc'], imu[10:20, :3] @ R.T)
    np.testing.assert_allclose(windows[2]['gyro'], imu[20:30, 3:] @ R.T)
    shifted = kitti_imu_windows(imu, times, offset=2)
    np.testing.assert_array_equal(shifted[0]['acc'], imu[2:12, :3])
    # rows 22..31 leave the file: no window for the last interval
    assert shifted[2] is None and shifted[1] is not None
    assert kitti_imu_windows(imu, times, offset=-1)[0] is None


def test_resample_is_linear_between_rows():
    imu = np.zeros((21, 6))
    imu[:, 0] = np.arange(21)  # ax = row index
    imu[:, 5] = 2.0
    frame_times = np.array([1.0, 1.2, 1.3])
    acc, gyro = resample_kitti_imu(imu, frame_times,
                                   np.array([1.0, 1.1, 1.25, 1.3]))
    np.testing.assert_allclose(acc[:, 0], [0.0, 5.0, 15.0, 20.0])
    np.testing.assert_allclose(gyro[:, 2], 2.0)
    with pytest.raises(ValueError, match='leave the frames'):
        resample_kitti_imu(imu, frame_times, np.array([1.31]))
