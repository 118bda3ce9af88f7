from typing import List, Sequence

from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def odom_collate(data_batch: Sequence[dict]) -> dict:
    """Collate packed odometry samples without stacking.

    Clouds and IMU windows differ in size between samples, so they are kept
    as lists here and padded by ``OdometryDataPreprocessor``.

    Args:
        data_batch (Sequence[dict]): Outputs of ``PackOdomInputs``, each
            with ``inputs`` (dict) and ``data_samples``.

    Returns:
        dict: ``inputs`` (list of N dicts) and ``data_samples`` (list of N
        ``OdometryDataSample``).
    """
    inputs: List[dict] = [d['inputs'] for d in data_batch]
    samples: List = [d['data_samples'] for d in data_batch]
    return dict(inputs=inputs, data_samples=samples)
