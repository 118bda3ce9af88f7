"""The odometry info files: written by the converter, read by
:class:`KittiOdometryDataset`."""
from typing import List, Sequence, Union

#: Version written into (and required from) every info file.
INFO_VERSION = '1.0'
#: IMU channels of the info files and of ``imu_stats.json``, in order.
IMU_CHANNELS = ('acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z')


def info_file_name(seq: str) -> str:
    """File name of the info file of sequence ``seq``."""
    return f'kitti_odom_infos_{seq}.pkl'


def parse_sequences(sequences: Union[str, int,
                                     Sequence[Union[str, int]]]) -> List[str]:
    """Normalise sequence names to zero-padded two-digit strings.

    Args:
        sequences (str | int | Sequence[str | int]): ``'00,01,2'``,
            ``[0, 1]``, ``['00', '1']`` or a single value.

    Returns:
        list[str]: e.g. ``['00', '01', '02']``, order kept, duplicates
        removed.
    """
    if isinstance(sequences, (str, int)):
        sequences = str(sequences).split(',')
    out = []
    for item in sequences:
        name = str(item).strip()
        if not name:
            continue
        if not name.isdigit():
            raise ValueError(
                f'invalid KITTI sequence {item!r} in {sequences!r}: '
                'expected a number such as 0, "00" or "07"')
        name = f'{int(name):02d}'
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f'no sequence given in {sequences!r}')
    return out
