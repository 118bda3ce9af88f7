"""Generated FRED samples in the released layout, for tests and demos
(as ``mmdet.testing``); training, testing and prediction do not import it.

:func:`generate_fred_sample` (:mod:`.fred_sample`) writes a sample from
its presets (:mod:`.sample_presets`) through a plan of the scenes
(:mod:`.scene_plan`), the renderers of the background, the drones and
the two cameras (:mod:`.background`, :mod:`.drones`, :mod:`.rgb_frames`,
:mod:`.event_frames`) and marks it complete with its stamp
(:mod:`.stamps`); :func:`build_fred_manifest` (:mod:`.manifest`) tells
what a reader must find in it.
"""
from .fred_sample import generate_fred_sample
from .manifest import build_fred_manifest, rgb_file_name
from .sample_presets import PRESETS
from .stamps import SAMPLE_STAMP, complete_sample

__all__ = [
    'generate_fred_sample', 'build_fred_manifest', 'rgb_file_name', 'PRESETS',
    'SAMPLE_STAMP', 'complete_sample'
]
