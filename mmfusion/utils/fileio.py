"""Atomic file writes: a reader, or a run restarted after a kill, finds
either the old content of a file or the new one, never a part of it.

A file is written to a hidden sibling ``.<name>.partial`` in the same
directory, flushed to disk (``fsync``), renamed over the final name with
:func:`os.replace` (atomic on POSIX within one directory), and the
directory entry is flushed too, so that the rename survives a power cut.
"""
import contextlib
import os
import os.path as osp
from typing import IO, Iterator

#: Suffix of the hidden file a write goes to before it is complete.
PARTIAL_SUFFIX = '.partial'


def partial_path(path: str) -> str:
    """The hidden sibling ``.<name>.partial`` that ``path`` is written to.

    Args:
        path (str): Final path of the file.

    Returns:
        str: The temporary path, in the directory of ``path``.
    """
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}{PARTIAL_SUFFIX}')


def fsync_path(path: str) -> None:
    """Flush a file or a directory entry to disk.

    Args:
        path (str): A file or a directory.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp_path: str, final_path: str) -> None:
    os.replace(tmp_path, final_path)
    fsync_path(osp.dirname(osp.abspath(final_path)))


def commit_file(tmp_path: str, final_path: str) -> None:
    """Move a completely written file to its final name atomically.

    The file is fsynced, renamed with :func:`os.replace` and the directory
    entry is fsynced, so ``final_path`` holds either the old or the new
    content, never a part of it.

    Args:
        tmp_path (str): The written file, in the directory of
            ``final_path`` (e.g. :func:`partial_path` of it).
        final_path (str): Its final name.
    """
    fsync_path(tmp_path)
    _replace(tmp_path, final_path)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w', **kwargs) -> Iterator[IO]:
    """Open ``path`` for writing; it appears only when the block ends.

    The block writes to :func:`partial_path` of ``path``. When it ends
    without an exception the file is flushed, fsynced and committed to
    ``path`` (see :func:`commit_file`); when it raises, the partial file is
    removed and ``path`` keeps its old content (or stays absent).

    Example::

        with atomic_open('index.json') as f:
            json.dump(index, f)
        with atomic_open('frame.npy', 'wb') as f:
            np.save(f, data)

    Args:
        path (str): Final path of the file.
        mode (str): A writing mode of :func:`open` (``'w'``, ``'wb'``, ...).
            Defaults to ``'w'``.
        **kwargs: Other arguments of :func:`open` (``encoding``,
            ``newline``).

    Yields:
        IO: The open file.
    """
    tmp_path = partial_path(path)
    f = open(tmp_path, mode, **kwargs)
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
    except BaseException:
        f.close()
        os.remove(tmp_path)
        raise
    f.close()
    _replace(tmp_path, path)


def atomic_write_text(path: str, text: str, **kwargs) -> None:
    """Write a text file atomically (see :func:`atomic_open`).

    Args:
        path (str): Destination path.
        text (str): The content.
        **kwargs: Other arguments of :func:`open` (``encoding``,
            ``newline``).
    """
    with atomic_open(path, 'w', **kwargs) as f:
        f.write(text)
