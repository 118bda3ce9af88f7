"""Checks of a checkpoint file before anything is built from it.

``tools/test.py CKPT``, ``tools/train.py --resume PATH`` and ``load_from``
otherwise build the dataset and the runner first and then fail inside
``torch.load`` with ``UnpicklingError: unpickling stack underflow`` or a
bare ``EOFError``, naming no file; and ``torch.load`` does not check the
CRC-32 of the tensor records, so zeroed or garbled bytes inside a
checkpoint load silently as damaged weights.

``torch.save`` writes a zip archive (stored, not compressed): the central
directory at its end lists every record with its CRC-32, ``data.pkl`` holds
the pickled object and ``data/<key>`` the tensor bytes. The checks, cheapest
first:

1. the file exists, is a file and is not empty;
2. it is a zip archive with its central directory (a truncated file has
   none) and a ``data.pkl`` record, or else a pickle (torch's legacy
   format, ``_use_new_zipfile_serialization=False``);
3. zip: the CRC-32 of every record (reads the file once, at disk speed);
4. the object unpickles, memory-mapped for the zip format (tensors are
   not read), fully for the legacy format (it has no other check), and is
   a dict; to resume, it holds the ``meta`` (epoch, iteration) and the
   ``message_hub`` that mmengine's ``Runner.resume`` needs.

Steps 1-3 need neither torch nor mmengine, so a missing, empty, garbage or
truncated file is reported within a fraction of a second.

Unpickling can execute code: load only checkpoints you trust.
"""
import os.path as osp
import zipfile
from typing import Optional

#: First byte of a pickle (its PROTO opcode): torch's legacy format.
_PICKLE_PROTO = 0x80


class CheckpointFileError(ValueError):
    """A checkpoint that cannot be loaded; the message is one line naming
    the file and the problem."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f'{path}: {problem}')


def is_remote(path: str) -> bool:
    """Whether ``path`` is a URL or another non-local checkpoint scheme
    (``https://``, ``open-mmlab://``, ``s3://`` ...), which is not checked
    here."""
    return '://' in str(path)


def zip_problem(path: str, crc: bool = True) -> Optional[str]:
    """What makes a file not a complete ``torch.save`` zip archive.

    Args:
        path (str): An existing, non-empty file.
        crc (bool): Also check the CRC-32 of every record (reads the whole
            file). Defaults to True.

    Returns:
        str | None: The problem, None for a complete archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(n == 'data.pkl' or n.endswith('/data.pkl')
                       for n in names):
                return ('not a torch checkpoint: zip archive without '
                        'data.pkl')
            bad = archive.testzip() if crc else None
    except zipfile.BadZipFile as e:
        with open(path, 'rb') as f:
            head = f.read(4)
        if head == b'PK\x03\x04':
            return (f'truncated or corrupt zip archive ({e}; '
                    f'{osp.getsize(path)} bytes)')
        return None if head[:1] == bytes([_PICKLE_PROTO]) else (
            'not a checkpoint (neither a torch zip archive nor a pickle)')
    except (OSError, EOFError, ValueError) as e:
        return f'corrupt zip archive ({e})'
    if bad is not None:
        return f'corrupt: CRC-32 mismatch in record {bad} (damaged data)'
    return None


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete ``torch.save`` zip archive (central
    directory and ``data.pkl`` present; CRCs not read). Checkpoints in
    torch's legacy (non-zip) format count as incomplete.

    Args:
        path (str): Path of the checkpoint file.

    Returns:
        bool: True for a file that ``torch.load`` can open.
    """
    return (osp.isfile(path) and osp.getsize(path) > 0
            and zipfile.is_zipfile(path)
            and zip_problem(path, crc=False) is None)


def check_checkpoint_file(path: str, resume: bool = False) -> None:
    """Check that ``path`` is a checkpoint that loads (see the module
    docstring for what is checked).

    Args:
        path (str): Local path of the checkpoint (``~`` is expanded); URLs
            and other schemes are not checked.
        resume (bool): The checkpoint is resumed from: it must be a
            training checkpoint (``meta`` with epoch and iteration,
            ``message_hub``). Defaults to False.

    Raises:
        CheckpointFileError: One line naming the file and the problem.
    """
    if is_remote(path):
        return
    path = osp.expanduser(str(path))
    problem = file_problem(path)
    if problem is None:
        problem = _content_problem(path, resume)
    if problem is not None:
        raise CheckpointFileError(path, problem)


def file_problem(path: str) -> Optional[str]:
    """What makes ``path`` not a complete checkpoint file, from its bytes
    alone (steps 1-3 of the module docstring: no unpickling, no torch).

    Args:
        path (str): Local path of the checkpoint.

    Returns:
        str | None: The problem, None if none is found.
    """
    if not osp.exists(path):
        return 'checkpoint file does not exist'
    if osp.isdir(path):
        return 'is a folder, not a checkpoint file'
    if osp.getsize(path) == 0:
        return 'checkpoint file is empty (0 bytes)'
    return zip_problem(path)


def _content_problem(path: str, resume: bool) -> Optional[str]:
    import torch  # only here: the checks above run without it

    legacy = not zipfile.is_zipfile(path)
    try:
        obj = torch.load(
            path, map_location='cpu', weights_only=False, mmap=not legacy)
    except Exception as e:  # whatever unpickling a damaged file raises
        what = 'legacy (pickle) checkpoint' if legacy else 'data.pkl'
        return f'cannot unpickle the {what}: {type(e).__name__}: {e}'
    if not isinstance(obj, dict):
        return (f'holds a {type(obj).__name__}, not a checkpoint dict (or '
                'state dict)')
    if resume:
        meta = obj.get('meta')
        if not (isinstance(meta, dict) and 'epoch' in meta and 'iter' in meta
                and 'message_hub' in obj):
            return ('not a training checkpoint: no meta epoch / iteration '
                    'or message hub to resume from (weights only? start '
                    'from them with load_from instead)')
    return None
