"""Loading of local checkpoints on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)``.  Since
torch 2.6 that defaults to ``weights_only=True``, which refuses the
checkpoints mmengine itself writes (they hold the message hub, numpy scalars
and the config in ``meta``), so ``--resume`` and ``load_from`` fail.

The fix lives here and nowhere else: the local-file scheme of mmengine's
:class:`~mmengine.runner.CheckpointLoader` is re-registered with a loader
that passes ``weights_only=False``.  Every path through mmengine
(``Runner.resume``, ``Runner.load_checkpoint``, ``load_checkpoint``,
``init_cfg=dict(type='Pretrained')``) goes through that scheme.

The file is checked first (zip structure and the CRC-32 of every record,
see :mod:`mmfusion.utils.checkpoint_file`; ``torch.load`` itself loads
zeroed or garbled tensor bytes silently); a file that does not load is an
error naming it and the problem.

Unpickling can execute code: load only checkpoints you trust, as with any
``torch.load`` before torch 2.6.
"""
import os.path as osp
from typing import Callable, Optional, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from mmfusion.utils.checkpoint_file import CheckpointFileError, file_problem


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str,
                    map_location: Optional[Union[str,
                                                 Callable]] = None) -> dict:
    """Load a checkpoint written by ``torch.save`` from a local path.

    Args:
        filename (str): Path of the checkpoint, ``~`` is expanded.
        map_location (str | Callable, optional): Same as in
            :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointFileError: If it does not load, naming the file and the
            problem.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    problem = file_problem(filename)
    if problem is not None:
        raise CheckpointFileError(filename, problem)
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    except Exception as e:  # whatever unpickling a damaged file raises
        raise CheckpointFileError(
            filename, f'cannot load: {type(e).__name__}: {e}') from e
