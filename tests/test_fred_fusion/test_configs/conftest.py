import pytest

from tests.test_fred_fusion.checkpoints import mmdet_yolox_checkpoint


@pytest.fixture(scope='session')
def coco_checkpoint(tmp_path_factory) -> str:
    """A checkpoint of mmdet's YOLOX at the widths of the shrunk test
    models, in place of the model-zoo URL of the coco-pretrained configs."""
    return mmdet_yolox_checkpoint(
        str(tmp_path_factory.mktemp('coco') / 'yolox.pth'),
        widen_factor=0.125,
        neck_channels=16)
