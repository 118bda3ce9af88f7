"""Light helpers (no torch): atomic writes and checkpoint file checks.
:mod:`mmfusion.utils.rng_state` imports torch and is imported from its
module."""
from .checkpoint_file import (CheckpointFileError, check_checkpoint_file,
                              file_problem, is_complete_checkpoint)
from .fileio import (PARTIAL_SUFFIX, atomic_open, atomic_write_text,
                     commit_file, fsync_path, partial_path)

__all__ = [
    'PARTIAL_SUFFIX', 'partial_path', 'fsync_path', 'commit_file',
    'atomic_open', 'atomic_write_text', 'CheckpointFileError',
    'check_checkpoint_file', 'file_problem', 'is_complete_checkpoint'
]
