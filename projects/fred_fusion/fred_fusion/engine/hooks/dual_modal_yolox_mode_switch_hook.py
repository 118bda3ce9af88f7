"""YOLOX's last-epochs switch for augmentations in the data preprocessor."""
from mmdet.engine.hooks import YOLOXModeSwitchHook
from mmdet.registry import HOOKS
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class DualModalYOLOXModeSwitchHook(YOLOXModeSwitchHook):
    """:class:`YOLOXModeSwitchHook` for CPU and device augmentation paths.

    In the last ``num_last_epochs`` epochs the steps in ``skip_type_keys``
    (Mosaic, RandomAffine, MixUp) are turned off and the L1 loss on, as by
    mmdet's hook, wherever the augmentation runs:

    - the data preprocessor's raw batch augmentations (e.g.
      ``DualModalBatchYOLOXAugment``), when it has some;
    - the train dataset's pipeline, when the dataset has
      ``update_skip_type_keys`` (``MultiModalMixDataset``), exactly as
      mmdet's hook does it (the dataloader's workers restart).

    The switch depends on the epoch only, so a run resumed in the last
    epochs switches again before its first epoch.

    Args:
        num_last_epochs (int): Epochs at the end without the skipped steps.
            Defaults to 15.
        skip_type_keys (Sequence[str]): Steps to turn off. Defaults to
            ``('Mosaic', 'RandomAffine', 'MixUp')``.
    """

    def before_train_epoch(self, runner) -> None:
        """Switch the preprocessor's and the dataset's augmentations."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        switch = (not self._has_switched and runner.epoch + 1
                  >= runner.max_epochs - self.num_last_epochs)
        preprocessor = model.data_preprocessor
        if switch and getattr(preprocessor, 'raw_batch_augments', None):
            runner.logger.info(
                f'Data preprocessor: skipping {list(self.skip_type_keys)} '
                'from now on')
            preprocessor.update_skip_type_keys(self.skip_type_keys)
        if hasattr(runner.train_dataloader.dataset, 'update_skip_type_keys'):
            super().before_train_epoch(runner)
        elif switch:
            runner.logger.info('Add additional L1 loss now!')
            head = model.detector.bbox_head if hasattr(
                model, 'detector') else model.bbox_head
            head.use_l1 = True
            self._has_switched = True
