import importlib.util
import os.path as osp

import pytest

from projects.fred_fusion.fred_fusion.converters.event_cache_builder import (
    cache_sequence, find_event_frame_dirs)
from projects.fred_fusion.fred_fusion.testing import generate_fred_sample

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'fred_converter.py')


@pytest.fixture(scope='session')
def fred_tiny_root(tmp_path_factory) -> str:
    """The 'tiny' generated FRED sample, converted by the real converter,
    with the lossless event cache (which the device-path configs of the
    real FRED read)."""
    root = str(tmp_path_factory.mktemp('fred_tiny'))
    generate_fred_sample(root, preset='tiny', seed=0)
    spec = importlib.util.spec_from_file_location('fred_converter', CONVERTER)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    assert converter.main([root, '--workers', '1']) == 0
    for frames_dir in find_event_frame_dirs(root):
        assert not cache_sequence(frames_dir)['failed']
    return root + '/'
