"""Command-line options of the IMU source, shared by the converter
(``tools/dataset_converters/kitti_odom_converter.py``) and the integrity
check (``tools/misc/check_kitti_integrity.py``), so that both read a layout
the same way."""
import argparse


def add_imu_source_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--imu-source``, ``--imu-root``, ``--imu-offset``,
    ``--imu-only``, ``--frame-period``, ``--imu-frame`` and ``--imu-rate``
    (the IMU options of :func:`~.kitti_odom_infos.convert_sequence`)."""
    parser.add_argument(
        '--imu-source',
        choices=['extract', 'sync', 'mat'],
        default='extract',
        help='~100 Hz extract packets resampled on a grid anchored at the '
        'frame times, the 10 Hz sync packets, or the KITTI IMU resampled '
        'to the frames (IMU_ROOT/XX.mat) (default: extract)')
    parser.add_argument(
        '--imu-root',
        help='folder of the XX.mat files of --imu-source mat (default: '
        'ROOT/imus)')
    parser.add_argument(
        '--imu-offset',
        type=int,
        default=0,
        help='rows (10 a frame) by which the mat IMU windows are moved '
        'against the frames, positive: later rows (default: 0)')
    parser.add_argument(
        '--imu-only',
        action='store_true',
        help='the poses and the IMU only (images and scans are neither '
        'needed nor checked); without calib.txt the published calibration '
        'is used')
    parser.add_argument(
        '--frame-period',
        type=float,
        help='seconds between frames of --imu-only sequences without '
        'times.txt')
    parser.add_argument(
        '--imu-frame',
        choices=['lidar', 'imu', 'camera'],
        default='lidar',
        help='frame of the IMU vectors (default: lidar, the frame LiDAR '
        'yaw augmentation rotates consistently)')
    parser.add_argument(
        '--imu-rate',
        type=float,
        default=100.0,
        help='rate (Hz) of the extract resampling grid (default: 100)')


def imu_source_kwargs(args: argparse.Namespace) -> dict:
    """The options added by :func:`add_imu_source_args` as keyword
    arguments of :func:`~.kitti_odom_infos.convert_sequence`."""
    return dict(
        imu_source=args.imu_source,
        imu_root=args.imu_root,
        imu_offset=args.imu_offset,
        imu_only=args.imu_only,
        frame_period=args.frame_period,
        imu_frame=args.imu_frame,
        imu_rate=args.imu_rate)
