from .config import find_entry, find_hook, load_config, resolve_type_keys
from .fileio import (PARTIAL_SUFFIX, atomic_open, atomic_write_text,
                     commit_file, fsync_path, partial_path)

__all__ = [
    'PARTIAL_SUFFIX', 'partial_path', 'fsync_path', 'commit_file',
    'atomic_open', 'atomic_write_text', 'find_entry', 'find_hook',
    'resolve_type_keys', 'load_config'
]
