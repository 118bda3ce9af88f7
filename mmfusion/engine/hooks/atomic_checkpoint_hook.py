"""Checkpointing that survives a kill at any moment.

mmengine's :class:`~mmengine.hooks.CheckpointHook` writes a checkpoint
straight to its final name and then overwrites the ``last_checkpoint`` text
file that ``--resume`` reads.  A process killed during either write leaves a
truncated checkpoint under a valid name, or an empty ``last_checkpoint``,
and the next ``--resume`` fails or loads garbage.  With ``max_keep_ckpts``
the oldest checkpoint is also deleted *before* the new one is written, so
``max_keep_ckpts=1`` can leave no checkpoint at all.
"""
import glob
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.dist import barrier, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from mmfusion.utils.fileio import (PARTIAL_SUFFIX, atomic_write_text,
                                   commit_file, partial_path)
from .. import mmengine_internals as internals


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete ``torch.save`` file.

    ``torch.save`` writes a zip archive whose central directory is at the
    end of the file, so a truncated file is not a valid zip.  Checkpoints
    in torch's legacy (non-zip) format are reported as incomplete.

    Args:
        path (str): Path of the checkpoint file.

    Returns:
        bool: True if the file exists and is a complete zip archive.
    """
    return osp.isfile(path) and zipfile.is_zipfile(path)


def list_checkpoints(ckpt_dir: str, filename_tmpl: str) -> List[str]:
    """Complete checkpoints of ``ckpt_dir`` named by ``filename_tmpl``.

    Args:
        ckpt_dir (str): Directory of the checkpoints.
        filename_tmpl (str): Name template with one ``{}`` for the step,
            e.g. ``'epoch_{}.pth'``.

    Returns:
        list[str]: Paths of the complete checkpoints, oldest step first.
    """
    prefix, _, suffix = filename_tmpl.partition('{}')
    pattern = re.compile(
        re.escape(prefix) + r'(\d+)' + re.escape(suffix) + '$')
    found = []
    for path in glob.glob(osp.join(glob.escape(ckpt_dir), '*')):
        match = pattern.match(osp.basename(path))
        if match and is_complete_checkpoint(path):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def find_resumable_checkpoint(work_dir: str,
                              ckpt_dir: Optional[str] = None,
                              filename_tmpl: str = 'epoch_{}.pth'
                              ) -> Optional[str]:
    """Find the checkpoint that ``--resume`` should continue from.

    The checkpoint named in ``work_dir/last_checkpoint`` is taken when it
    is complete.  When that file is empty or names a missing or truncated
    checkpoint, a warning says so and the complete checkpoint with the
    highest step in ``ckpt_dir`` is taken instead.

    Args:
        work_dir (str): Work directory holding ``last_checkpoint``.
        ckpt_dir (str, optional): Directory of the checkpoints. Defaults
            to ``work_dir``.
        filename_tmpl (str): Name template of the checkpoints.
            Defaults to ``'epoch_{}.pth'``.

    Returns:
        str, optional: Path of the checkpoint, None if there is none.
    """
    ckpt_dir = work_dir if ckpt_dir is None else ckpt_dir
    save_file = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(save_file):
        with open(save_file) as f:
            last_saved = f.read().strip()
        if last_saved and is_complete_checkpoint(last_saved):
            return last_saved
        reason = ('is empty' if not last_saved else
                  f'names {last_saved}, which is missing or incomplete')
        print_log(
            f'{save_file} {reason}; looking for the newest complete '
            f'checkpoint in {ckpt_dir}.',
            logger='current',
            level=logging.WARNING)
    candidates = list_checkpoints(ckpt_dir, filename_tmpl)
    return candidates[-1] if candidates else None


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` whose writes are atomic.

    Takes the arguments of :class:`~mmengine.hooks.CheckpointHook`.  For
    checkpoints on the local file system (the default ``out_dir``):

    - a checkpoint is written to a hidden ``.<name>.partial`` file in the
      same directory, fsynced and renamed to its final name, so a file
      named ``epoch_N.pth`` is always complete;
    - ``last_checkpoint`` is replaced atomically and only after the
      checkpoint it names is complete;
    - with ``max_keep_ckpts``, old checkpoints are removed only after the
      new one is complete;
    - when resuming without a path (``tools/train.py CFG --resume``), an
      empty, dangling or truncated ``last_checkpoint`` target is reported
      and replaced by the newest complete checkpoint, and ``.partial``
      leftovers of a killed run are removed.

    A run killed at any moment and restarted with ``--resume`` therefore
    continues from the last complete checkpoint.  Best checkpoints
    (``save_best``) and non-local backends are written as in mmengine.

    Note:
        ``EpochBasedTrainLoop`` does not skip the batches already seen when
        it resumes from a mid-epoch checkpoint (``by_epoch=False``): that
        epoch restarts from its first batch.  Resuming from epoch-end
        checkpoints reproduces an uninterrupted run exactly (together with
        :class:`~mmfusion.engine.RNGStateHook`).
    """

    def before_run(self, runner) -> None:
        """Repair ``last_checkpoint`` before an automatic resume.

        Args:
            runner (Runner): The runner of the training process.
        """
        # ``Runner.load_or_resume`` runs after ``before_run``: resuming
        # without an explicit checkpoint reads ``last_checkpoint``.
        if not internals.resumes_latest(runner):
            return
        ckpt_dir = self._local_ckpt_dir(runner)
        if ckpt_dir is not None and is_main_process():
            self._repair_last_checkpoint(runner, ckpt_dir)
        # Every rank reads ``last_checkpoint`` once it is repaired.
        barrier()

    def _repair_last_checkpoint(self, runner, ckpt_dir: str) -> None:
        """Remove ``.partial`` leftovers and point ``last_checkpoint`` to
        the newest complete checkpoint if it names none."""
        for leftover in glob.glob(
                osp.join(glob.escape(ckpt_dir), f'.*{PARTIAL_SUFFIX}')):
            runner.logger.warning(
                f'Removing {leftover}, an incomplete checkpoint of an '
                'interrupted run.')
            os.remove(leftover)
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        recorded = None
        if osp.isfile(save_file):
            with open(save_file) as f:
                recorded = f.read().strip()
        resume_from = find_resumable_checkpoint(runner.work_dir, ckpt_dir,
                                                self.filename_tmpl)
        if resume_from is None:
            if recorded is not None:
                runner.logger.warning(
                    f'No complete checkpoint in {ckpt_dir}: removing '
                    f'{save_file}, training starts from scratch.')
                os.remove(save_file)
        elif resume_from != recorded:
            runner.logger.warning(f'Resuming from {resume_from} instead.')
            atomic_write_text(save_file, resume_from)

    def before_train(self, runner) -> None:
        """Resolve the checkpoint directory and backend.

        Args:
            runner (Runner): The runner of the training process.
        """
        super().before_train(runner)
        self._atomic = (
            isinstance(self.file_backend, LocalBackend)
            and self.file_client_args is None)
        if not self._atomic:
            runner.logger.warning(
                f'{type(self).__name__}: {self.out_dir} is not on the local '
                'file system, checkpoints are written non-atomically.')

    def _local_ckpt_dir(self, runner) -> Optional[str]:
        """The checkpoint directory if it is local, resolved as in
        :meth:`CheckpointHook.before_train`."""
        out_dir = runner.work_dir if self.out_dir is None else str(
            self.out_dir)
        if '://' in out_dir or self.file_client_args is not None:
            return None
        if osp.abspath(out_dir) != osp.abspath(runner.work_dir):
            out_dir = osp.join(out_dir,
                               osp.basename(runner.work_dir.rstrip(osp.sep)))
        return out_dir

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Write the checkpoint of ``step``, then ``last_checkpoint``, then
        remove the checkpoints beyond ``max_keep_ckpts``.

        Args:
            runner (Runner): The runner of the training process.
            step (int): Epoch or iteration of the checkpoint.
            meta (dict): Meta information saved in the checkpoint.
        """
        if not getattr(self, '_atomic', False):
            return super()._save_checkpoint_with_step(runner, step, meta)

        evicted = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                evicted.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # Stored in the checkpoint: the ids as they are once it exists.
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        tmp_filename = osp.basename(partial_path(ckpt_filename))
        runner.save_checkpoint(
            self.out_dir,
            tmp_filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return

        commit_file(
            self.file_backend.join_path(self.out_dir, tmp_filename),
            self.last_ckpt)
        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)

        for old_step in evicted:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
