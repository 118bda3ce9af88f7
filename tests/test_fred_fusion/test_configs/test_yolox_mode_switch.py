"""YOLOX's last-epochs switch with the real Runner, on both paths.

The dual YOLOX-s configs (shrunk as in ``test_fred_configs``) train on the
generated tiny sample. On the device augmentation path Mosaic,
RandomAffine and MixUp run in the data preprocessor in the first epochs,
and ``DualModalYOLOXModeSwitchHook`` turns them off (and the L1 loss on)
for the last epochs, also in a run resumed after the switch point; on the
CPU path the same hook switches the dataset's pipeline as mmdet's does.
"""
import os.path as osp

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tests.test_fred_fusion.test_configs.test_fred_configs import REPO, shrink

CONFIGS = osp.join(REPO, 'configs', 'fred_fusion')
DEVICE = osp.join(CONFIGS, 'yolox_s_dual-concat_1xb8-300e_device-aug_fred.py')
CPU = osp.join(CONFIGS, 'yolox_s_dual-concat_1xb8-300e_fred.py')
SWITCHED = ('Mosaic', 'RandomAffine', 'MixUp')


class RecordAugment(Hook):
    """Record the epoch, the skipped steps and the L1 switch of each
    training iteration."""

    def __init__(self) -> None:
        self.seen = []

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        augments = runner.model.data_preprocessor.raw_batch_augments
        skipped = (
            augments[0].skip_type_keys
            if augments else runner.train_dataloader.dataset._skip_type_keys)
        self.seen.append(
            (runner.epoch, tuple(skipped
                                 or ()), runner.model.bbox_head.use_l1))


def build(root: str,
          work_dir: str,
          max_epochs: int,
          config: str = DEVICE,
          **kwargs) -> Runner:
    cfg = Config(
        Config.fromfile(config).to_dict(),
        filename=config,
        format_python_code=False)
    cfg = shrink(cfg, root, work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.default_hooks.checkpoint.interval = 1
    for hook in cfg.custom_hooks:
        if hook['type'] == 'DualModalYOLOXModeSwitchHook':
            hook['num_last_epochs'] = 1
    cfg.update(kwargs)
    runner = Runner.from_cfg(cfg)
    record = RecordAugment()
    runner.register_hook(record)
    return runner, record


def test_device_path_trains_switches_and_resumes(fred_tiny_root, tmp_path):
    work_dir = str(tmp_path)
    runner, record = build(fred_tiny_root, work_dir, max_epochs=3)
    runner.train()
    assert [s[0] for s in record.seen] == [0, 1, 2]
    # epoch 0: everything on; from epoch 1 (mmdet's rule: epoch + 1 >=
    # max_epochs - num_last_epochs) switched
    assert record.seen[0][1:] == ((), False)
    assert record.seen[1][1:] == record.seen[2][1:] == (SWITCHED, True)
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))

    # a run resumed after the switch point switches before its first epoch
    resumed, record = build(
        fred_tiny_root,
        work_dir,
        max_epochs=3,
        resume=True,
        load_from=osp.join(work_dir, 'epoch_2.pth'))
    augment = resumed.model.data_preprocessor.raw_batch_augments[0]
    assert augment.skip_type_keys == ()
    resumed.train()
    assert record.seen == [(2, SWITCHED, True)]


def test_cpu_path_switches_the_dataset_pipeline(fred_tiny_root, tmp_path):
    runner, record = build(
        fred_tiny_root, str(tmp_path), max_epochs=3, config=CPU)
    runner.train()
    assert record.seen == [(0, (), False), (1, SWITCHED, True),
                           (2, SWITCHED, True)]
