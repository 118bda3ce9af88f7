"""Which KITTI raw drive holds each odometry sequence."""
import os.path as osp
from typing import Dict, Optional, Tuple

# Odometry sequence -> (date, drive, first raw frame, last raw frame,
# raw data released).
KITTI_ODOM_DRIVES: Dict[str, Tuple[str, str, int, int, bool]] = {
    '00': ('2011_10_03', '0027', 0, 4540, True),
    '01': ('2011_10_03', '0042', 0, 1100, True),
    '02': ('2011_10_03', '0034', 0, 4660, True),
    '03': ('2011_09_26', '0067', 0, 800, False),
    '04': ('2011_09_30', '0016', 0, 270, True),
    '05': ('2011_09_30', '0018', 0, 2760, True),
    '06': ('2011_09_30', '0020', 0, 1100, True),
    '07': ('2011_09_30', '0027', 0, 1100, True),
    '08': ('2011_09_30', '0028', 1100, 5170, True),
    '09': ('2011_09_30', '0033', 0, 1590, True),
    '10': ('2011_09_30', '0034', 0, 1200, True),
}


def drive_dirs(raw_root: str, seq: str) -> Optional[Dict[str, str]]:
    """Raw paths of an odometry sequence, or None if it has no raw drive.

    Args:
        raw_root (str): KITTI raw root.
        seq (str): Two-digit sequence name.

    Returns:
        dict | None: ``date_dir``, ``sync`` and ``extract`` (the ``oxts``
        folders), ``imu_to_velo`` and ``velo_to_cam`` calibration files.
    """
    entry = KITTI_ODOM_DRIVES.get(seq)
    if entry is None or not entry[4]:
        return None
    date, drive = entry[:2]
    date_dir = osp.join(raw_root, date)
    name = f'{date}_drive_{drive}'
    return dict(
        date_dir=date_dir,
        sync=osp.join(date_dir, f'{name}_sync', 'oxts'),
        extract=osp.join(date_dir, f'{name}_extract', 'oxts'),
        imu_to_velo=osp.join(date_dir, 'calib_imu_to_velo.txt'),
        velo_to_cam=osp.join(date_dir, 'calib_velo_to_cam.txt'))
