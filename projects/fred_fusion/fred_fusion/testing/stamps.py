"""The stamp of a generated sample: a dot-file at its root, written last,
that names the settings and the frame counts of every sequence.

A second run of the generator with the same settings finds a complete
sample through it (:func:`complete_sample`) and does nothing; a new run
replaces a former sample only (see :func:`read_stamp`). Only the standard
library is needed, so that the check is fast.
"""
import json
import os
import os.path as osp
from typing import Optional

from mmfusion.utils.fileio import atomic_write_text
from .sample_presets import SPLIT_NAMES

#: Name of the dot-file written at the sample root.
SAMPLE_STAMP = '.sample_stamp.json'


def write_stamp(root: str, preset: str, seed: int, overrides: dict,
                counts: dict, complete: bool) -> None:
    """Write the sample stamp: settings and frame counts per sequence."""
    stamp = dict(
        preset=preset,
        seed=seed,
        overrides=json.loads(json.dumps(overrides)),
        complete=complete,
        sequences=counts)
    atomic_write_text(
        osp.join(root, SAMPLE_STAMP), json.dumps(stamp, indent=1))


def read_stamp(root: str) -> Optional[dict]:
    """The stamp of ``root``, None if it has none or it cannot be read."""
    path = osp.join(root, SAMPLE_STAMP)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except ValueError:
            return None


def complete_sample(root: str, preset: str, seed: int,
                    overrides: dict) -> Optional[dict]:
    """The stamp of ``root`` if it holds this complete sample, else None.

    Args:
        root (str): The sample root.
        preset (str): Preset of the wanted sample.
        seed (int): Its seed.
        overrides (dict): Its settings overrides.

    Returns:
        dict | None: The stamp, when the stamp says complete with these
        settings and every split file, annotation file and frame it counts
        is there.
    """
    stamp = read_stamp(root)
    if stamp is None or (stamp.get('complete'), stamp.get('preset'),
                         stamp.get('seed'),
                         stamp.get('overrides')) != (True, preset, seed,
                                                     overrides):
        return None
    for name in SPLIT_NAMES:
        if not osp.isfile(
                osp.join(root, 'dataset_splits', f'{name}_split.txt')):
            return None
    for seq_id, counts in stamp.get('sequences', {}).items():
        seq_dir = osp.join(root, seq_id)
        for name in ('coordinates.txt', 'coordinates_rgb.txt'):
            if not osp.isfile(osp.join(seq_dir, name)):
                return None
        for sub, ext, key in (('RGB', '.jpg', 'rgb'),
                              (osp.join('Event', 'Frames'), '.png', 'event')):
            folder = osp.join(seq_dir, sub)
            if not osp.isdir(folder) or sum(
                    n.endswith(ext)
                    for n in os.listdir(folder)) != counts[key]:
                return None
    return stamp
