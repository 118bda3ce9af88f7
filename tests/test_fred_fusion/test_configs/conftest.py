import importlib.util
import os.path as osp

import pytest

from projects.fred_fusion.fred_fusion.testing.fred_sample import \
    generate_fred_sample
from tests.test_fred_fusion.checkpoints import mmdet_yolox_checkpoint

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'fred_converter.py')


@pytest.fixture(scope='session')
def fred_tiny_root(tmp_path_factory) -> str:
    """The 'tiny' generated FRED sample, converted by the real converter."""
    root = str(tmp_path_factory.mktemp('fred_tiny'))
    generate_fred_sample(root, preset='tiny', seed=0)
    spec = importlib.util.spec_from_file_location('fred_converter', CONVERTER)
    converter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(converter)
    assert converter.main([root, '--workers', '1']) == 0
    return root + '/'


@pytest.fixture(scope='session')
def coco_checkpoint(tmp_path_factory) -> str:
    """A checkpoint of mmdet's YOLOX at the widths of the shrunk test
    models, in place of the model-zoo URL of the coco-pretrained configs."""
    return mmdet_yolox_checkpoint(
        str(tmp_path_factory.mktemp('coco') / 'yolox.pth'),
        widen_factor=0.125,
        neck_channels=16)
