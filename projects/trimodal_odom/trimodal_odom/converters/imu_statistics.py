"""Per-channel IMU statistics of converted sequences (``imu_stats.json``,
read by :class:`NormalizeOdomIMU`)."""
from typing import Optional, Sequence

import numpy as np

from ..datasets.odom_info_file import IMU_CHANNELS


def compute_imu_stats(infos: Sequence[dict]) -> Optional[dict]:
    """Per-channel mean and std of the IMU samples of converted sequences.

    Args:
        infos (Sequence[dict]): Info dicts from :func:`convert_sequence`.

    Returns:
        dict | None: ``mean`` and ``std`` (6 floats each, channel order
        :data:`IMU_CHANNELS`), ``num_samples``, ``frame``, ``source`` and
        ``sequences`` (those holding IMU samples); None when no sample
        exists.
    """
    chunks, used = [], []
    for info in infos:
        n = len(chunks)
        for frame in info['data_list']:
            if frame['imu'] is not None:
                chunks.append(
                    np.concatenate([frame['imu']['acc'], frame['imu']['gyro']],
                                   axis=1))
        if len(chunks) > n:
            used.append(info)
    if not chunks:
        return None
    values = np.concatenate(chunks)
    imu_meta = used[0]['metainfo']['imu']
    return dict(
        channels=list(IMU_CHANNELS),
        mean=values.mean(0).tolist(),
        std=np.maximum(values.std(0), 1e-6).tolist(),
        num_samples=int(len(values)),
        frame=imu_meta['frame'],
        source=imu_meta['source'],
        sequences=[info['metainfo']['seq'] for info in used])
