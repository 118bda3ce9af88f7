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

Unpickling can execute code: load only checkpoints you trust, as with any
``torch.load`` before torch 2.6.
"""
import os.path as osp
from typing import Callable, Optional, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader


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
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)
