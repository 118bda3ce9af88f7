"""Save the final model under a chosen file name."""
import os
import os.path as osp
from typing import Optional

from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class ExportCheckpointHook(Hook):
    """Write the checkpoint of the trained model to ``out_file`` at the end
    of training (e.g. ``pretrain_models/multimodal_initial.pth``), besides
    the periodic checkpoints of the work directory.

    Args:
        out_file (str, optional): Path of the checkpoint; relative paths are
            relative to the current directory. Its directory is created.
            None (the default) disables the hook, so that configs can keep
            it in ``custom_hooks`` and set the name with ``--cfg-options``.
        save_optimizer (bool): Also save the optimizer and scheduler state,
            so that ``--resume out_file`` continues training.
            Defaults to True.
    """

    priority = 'LOW'

    def __init__(self,
                 out_file: Optional[str] = None,
                 save_optimizer: bool = True) -> None:
        self.out_file = out_file
        self.save_optimizer = save_optimizer

    def after_train(self, runner) -> None:
        """Save the checkpoint.

        Args:
            runner (Runner): The runner.
        """
        if not self.out_file:
            return
        out_dir = osp.dirname(osp.abspath(self.out_file))
        os.makedirs(out_dir, exist_ok=True)
        runner.save_checkpoint(
            out_dir,
            osp.basename(self.out_file),
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_optimizer)
        runner.logger.info(f'Final checkpoint saved to {self.out_file}')
