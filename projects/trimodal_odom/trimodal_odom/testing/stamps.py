"""The stamp of a generated KITTI sample: ``ROOT/.kitti_sample.json``,
written last, holding the settings and the manifest of the sample.

A second run of the generator with the same settings finds a complete
sample through it (:func:`complete_sample`) and does nothing. Only the
standard library is needed, so that the check is fast.
"""
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmfusion.utils.fileio import atomic_write_text

#: Name of the dot-file written at the sample root.
STAMP_NAME = '.kitti_sample.json'


def remove_stamp(root: str) -> None:
    """Remove the stamp before a sample is (re)written: an interrupted
    run leaves no stamp behind."""
    path = osp.join(root, STAMP_NAME)
    if osp.exists(path):
        os.remove(path)


def write_stamp(root: str, manifest: dict, raw_root: str, overrides: dict,
                sequences: Sequence[str], preset_sequences: bool) -> None:
    """Mark the sample of ``root`` complete, with the settings it was made
    with (those :func:`complete_sample` compares).

    Args:
        root (str): The odometry root of the sample.
        manifest (dict): The manifest of :func:`generate_kitti_sample` or
            :func:`generate_hard_sample` (its ``preset``, ``seed`` and
            ``imu_root`` go into the settings).
        raw_root (str): The raw root written.
        overrides (dict): Settings that change the preset.
        sequences (Sequence[str]): The sequences written.
        preset_sequences (bool): Whether they are the preset's.
    """
    settings = dict(
        preset=manifest['preset'],
        seed=manifest['seed'],
        raw_root=osp.abspath(raw_root),
        imu_root=manifest.get('imu_root'),
        overrides=overrides,
        sequences=list(sequences),
        preset_sequences=preset_sequences)
    atomic_write_text(
        osp.join(root, STAMP_NAME),
        json.dumps(dict(settings=settings, manifest=manifest)))


def read_sample_stamp(root: str) -> Optional[dict]:
    """The ``settings`` and ``manifest`` of the sample completed in
    ``root``, or None if no complete sample is there."""
    stamp = osp.join(root, STAMP_NAME)
    if not osp.isfile(stamp):
        return None
    with open(stamp) as f:
        return json.load(f)


def complete_sample(root: str,
                    preset: str,
                    seed: int,
                    raw_root: str,
                    sequences: Optional[List[str]],
                    imu_root: Optional[str] = None,
                    overrides: Optional[dict] = None) -> Optional[dict]:
    """The stamp of a complete sample made with these settings, or None.

    Args:
        root (str): The odometry root.
        preset (str): The preset.
        seed (int): The seed.
        raw_root (str): Absolute path of the raw root.
        sequences (list[str], optional): The sequences asked for; None for
            the preset's.
        imu_root (str, optional): Absolute path of the real IMU files the
            OXTS were made from; None for the simulated IMU.
        overrides (dict, optional): The preset settings changed (JSON
            values, e.g. ``{'num_frames': 300}``). Defaults to None (none).

    Returns:
        dict | None: ``settings`` and ``manifest`` of the stamp.
    """
    done = read_sample_stamp(root)
    if done is None:
        return None
    settings = done.get('settings', {})
    same = (
        settings.get('preset') == preset and settings.get('seed') == seed
        and settings.get('raw_root') == raw_root
        and settings.get('imu_root') == imu_root
        and (settings.get('overrides') or {}) == (overrides or {})
        and (settings.get('sequences') == sequences if sequences is not None
             else settings.get('preset_sequences', False)))
    return done if same else None
