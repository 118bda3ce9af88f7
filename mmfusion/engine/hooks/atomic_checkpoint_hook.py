"""Checkpointing that survives a kill at any moment.

mmengine's :class:`~mmengine.hooks.CheckpointHook` writes a checkpoint
straight to its final name and then overwrites the ``last_checkpoint`` text
file that ``--resume`` reads.  A process killed during either write leaves a
truncated checkpoint under a valid name, or an empty ``last_checkpoint``,
and the next ``--resume`` fails or loads garbage.  With ``max_keep_ckpts``
the oldest checkpoint is also deleted *before* the new one is written, so
``max_keep_ckpts=1`` can leave no checkpoint at all; likewise ``save_best``
deletes the previous best checkpoint before writing the new one.
"""
import glob
import logging
import os
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.dist import barrier, is_main_process
from mmengine.fileio import LocalBackend, get_file_backend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from mmfusion.utils.checkpoint_file import is_complete_checkpoint
from mmfusion.utils.fileio import (PARTIAL_SUFFIX, atomic_write_text,
                                   commit_file, partial_path)
from .. import mmengine_internals as internals

#: Name of mid-epoch checkpoints: the global iteration after which they
#: were written.
ITER_FILENAME_TMPL = 'iter_{}.pth'
DATA_BATCH = Optional[Union[dict, tuple, list]]


class AtomicLocalBackend(LocalBackend):
    """Local file backend whose ``put`` is atomic.

    The bytes go to the hidden ``.<name>.partial`` sibling of the file
    (through the wrapped backend), which is then fsynced and renamed to the
    final name (:func:`mmfusion.utils.fileio.commit_file`). Registered as
    ``'atomic_local'``; :class:`AtomicCheckpointHook` writes through it.

    Args:
        inner (dict, optional): ``backend_args`` of the backend that writes
            the bytes (a local one). Defaults to None: ``LocalBackend``.
    """

    def __init__(self, inner: Optional[dict] = None) -> None:
        super().__init__()
        self._inner = (
            LocalBackend() if inner is None else get_file_backend(
                backend_args=inner))

    def put(self, obj: bytes, filepath) -> None:
        """Write ``obj`` to ``filepath`` atomically.

        Args:
            obj (bytes): The content.
            filepath (str | Path): The final path.
        """
        tmp = partial_path(str(filepath))
        self._inner.put(obj, tmp)
        commit_file(tmp, str(filepath))


register_backend('atomic_local', AtomicLocalBackend, force=True)


class _DeferredRemoval:
    """A file backend whose ``remove`` / ``rmtree`` calls wait for
    :meth:`run`; everything else goes to the wrapped backend."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self._removals: List[Tuple[str, str]] = []

    def remove(self, path) -> None:
        self._removals.append(('remove', path))

    def rmtree(self, path) -> None:
        self._removals.append(('rmtree', path))

    def __getattr__(self, name: str):
        return getattr(self._backend, name)

    def run(self, keep: Sequence[str] = ()) -> None:
        """Do the removals, except of the paths in ``keep``."""
        for method, path in self._removals:
            if path not in keep:
                getattr(self._backend, method)(path)


def list_checkpoints(ckpt_dir: str,
                     filename_tmpl: Union[str, Sequence[str]]) -> List[str]:
    """Complete checkpoints of ``ckpt_dir`` named by ``filename_tmpl``.

    Args:
        ckpt_dir (str): Directory of the checkpoints.
        filename_tmpl (str | Sequence[str]): Name template(s) with one
            ``{}`` for the step, e.g. ``'epoch_{}.pth'``.

    Returns:
        list[str]: Paths of the complete checkpoints, oldest first (by
        modification time, then step).
    """
    if isinstance(filename_tmpl, str):
        filename_tmpl = [filename_tmpl]
    patterns = []
    for tmpl in dict.fromkeys(filename_tmpl):
        prefix, _, suffix = tmpl.partition('{}')
        patterns.append(
            re.compile(re.escape(prefix) + r'(\d+)' + re.escape(suffix) + '$'))
    found = []
    for path in glob.glob(osp.join(glob.escape(ckpt_dir), '*')):
        for pattern in patterns:
            match = pattern.match(osp.basename(path))
            if match and is_complete_checkpoint(path):
                found.append(
                    (os.stat(path).st_mtime_ns, int(match.group(1)), path))
    return [path for _, _, path in sorted(found)]


def find_resumable_checkpoint(
    work_dir: str,
    ckpt_dir: Optional[str] = None,
    filename_tmpl: Union[str,
                         Sequence[str]] = ('epoch_{}.pth', ITER_FILENAME_TMPL)
) -> Optional[str]:
    """Find the checkpoint that ``--resume`` should continue from.

    The checkpoint named in ``work_dir/last_checkpoint`` is taken when it
    is complete.  When that file is empty or names a missing or truncated
    checkpoint, a warning says so and the newest complete checkpoint in
    ``ckpt_dir`` is taken instead.

    Args:
        work_dir (str): Work directory holding ``last_checkpoint``.
        ckpt_dir (str, optional): Directory of the checkpoints. Defaults
            to ``work_dir``.
        filename_tmpl (str | Sequence[str]): Name template(s) of the
            checkpoints. Defaults to epoch and mid-epoch checkpoints.

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
    """:class:`~mmengine.hooks.CheckpointHook` whose writes are atomic, with
    optional mid-epoch checkpoints.

    Takes the arguments of :class:`~mmengine.hooks.CheckpointHook`, and
    ``interval_iters``.  For checkpoints on the local file system (the
    default ``out_dir``):

    - every checkpoint (periodic, mid-epoch, best) is written to a hidden
      ``.<name>.partial`` file in the same directory, fsynced and renamed
      to its final name (:class:`AtomicLocalBackend`), so a file named
      ``epoch_N.pth`` is always complete;
    - ``last_checkpoint`` is replaced atomically and only after the
      checkpoint it names is complete;
    - with ``max_keep_ckpts``, old checkpoints are removed only after the
      new one is complete, and with ``save_best`` the previous best
      checkpoint only after the new best one is;
    - when resuming without a path (``tools/train.py CFG --resume``), an
      empty, dangling or truncated ``last_checkpoint`` target is reported
      and replaced by the newest complete checkpoint, and ``.partial``
      leftovers of a killed run are removed.

    A run killed at any moment and restarted with ``--resume`` therefore
    continues from the last complete checkpoint.  On other backends
    checkpoints are written as in mmengine.

    ``interval_iters=N`` (epoch-based runs) also writes a checkpoint every
    ``N`` iterations inside epochs, ``iter_<iteration>.pth``; on the local
    file system only the newest one is kept, and it is removed once a newer
    checkpoint is complete. With
    :class:`~mmfusion.engine.ResumableEpochBasedTrainLoop` a run resumed
    from it continues the interrupted epoch with its remaining batches.

    Args:
        interval_iters (int, optional): Iterations between mid-epoch
            checkpoints; needs ``by_epoch=True``. Defaults to None (none).
        **kwargs: Arguments of :class:`~mmengine.hooks.CheckpointHook`.
    """

    def __init__(self, interval_iters: Optional[int] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if interval_iters is not None:
            if interval_iters < 1:
                raise ValueError(
                    f'interval_iters must be >= 1, got {interval_iters}')
            if not self.by_epoch:
                raise ValueError(
                    'interval_iters needs by_epoch=True; with by_epoch=False '
                    '`interval` already counts iterations')
        self.interval_iters = interval_iters
        self._backend_args_cfg = self.backend_args
        self._atomic = False

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
                                                (self.filename_tmpl,
                                                 ITER_FILENAME_TMPL))
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
        self.backend_args = self._backend_args_cfg
        super().before_train(runner)
        self._atomic = (
            isinstance(self.file_backend, LocalBackend)
            and self.file_client_args is None)
        if self._atomic:
            # Every write of mmengine's hook passes ``self.backend_args``.
            self.backend_args = dict(
                backend='atomic_local', inner=self._backend_args_cfg)
        else:
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

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Write iteration checkpoints (``by_epoch=False``) and mid-epoch
        checkpoints (``interval_iters``).

        Args:
            runner (Runner): The runner of the training process.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict | tuple | list, optional): The batch.
            outputs (dict, optional): Outputs of the iteration.
        """
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if not self.interval_iters or (runner.iter + 1) % self.interval_iters:
            return
        # The epoch's own checkpoint follows right after its last batch.
        if batch_idx + 1 == len(runner.train_dataloader) and \
                self._saves_epoch_checkpoint(runner):
            return
        step = runner.iter + 1
        runner.logger.info(f'Saving mid-epoch checkpoint at {step} iterations')
        meta = dict(epoch=runner.epoch, iter=step)
        self._write(runner, ITER_FILENAME_TMPL.format(step), meta, False)

    def _saves_epoch_checkpoint(self, runner) -> bool:
        """Whether :meth:`after_train_epoch` saves this epoch."""
        if self.every_n_epochs(runner, self.interval, self.save_begin):
            return True
        return self.save_last and self.is_last_train_epoch(runner)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Write the checkpoint of ``step``, then ``last_checkpoint``, then
        remove the checkpoints beyond ``max_keep_ckpts``.

        Args:
            runner (Runner): The runner of the training process.
            step (int): Epoch or iteration of the checkpoint.
            meta (dict): Meta information saved in the checkpoint.
        """
        if not self._atomic:
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

        self._write(runner, self.filename_tmpl.format(step), meta,
                    self.by_epoch)
        if not is_main_process():
            return
        for old_step in evicted:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _write(self, runner, filename: str, meta: dict,
               by_epoch: bool) -> None:
        """Write a checkpoint (atomically through ``self.backend_args``),
        then ``last_checkpoint``, then, with ``interval_iters``, remove the
        older mid-epoch checkpoints."""
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        ckpt_dir = self._local_ckpt_dir(runner)
        if self.interval_iters and ckpt_dir is not None:
            for path in list_checkpoints(ckpt_dir, ITER_FILENAME_TMPL):
                if osp.abspath(path) != osp.abspath(self.last_ckpt):
                    self.file_backend.remove(path)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """Write the best checkpoint(s) as mmengine does, atomically, and
        remove the previous best one only once the new one is complete.

        Args:
            runner (Runner): The runner of the training process.
            metrics (dict): Evaluation results of all metrics.
        """
        if not self._atomic or not self.save_best:
            return super()._save_best_checkpoint(runner, metrics)
        backend = self.file_backend
        self.file_backend = _DeferredRemoval(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            deferred, self.file_backend = self.file_backend, backend
        if is_main_process():
            best = [getattr(self, 'best_ckpt_path', None)] + list(
                getattr(self, 'best_ckpt_path_dict', {}).values())
            deferred.run(keep=[p for p in best if p] + [self.last_ckpt])
