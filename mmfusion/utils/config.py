"""Configs as the tools load them, with list entries addressed by type.

mmengine's ``--cfg-options`` address a list entry by its index
(``custom_hooks.3.freeze_epochs=5``), which breaks as soon as a config
adds or reorders an entry. Here an entry of a list of typed dicts (hooks,
pipeline steps, schedulers) can be named by its ``type`` instead::

    --cfg-options custom_hooks.FreezeScheduleHook.freeze_epochs=5
    --cfg-options train_dataloader.dataset.pipeline.LoadOdomImages.scale=...

A type name must match exactly one entry of the list (a registry scope
prefix such as ``mmdet.`` is ignored); indices keep working.
"""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import Config


def _type_name(entry: Any) -> Optional[str]:
    kind = entry.get('type') if isinstance(entry, dict) else None
    return kind.split('.')[-1] if isinstance(kind, str) else None


def find_entry(entries: Sequence[dict],
               type_name: str,
               where: str = 'the list') -> int:
    """Index of the one entry of ``entries`` whose type is ``type_name``.

    Args:
        entries (Sequence[dict]): Config dicts with a ``type``.
        type_name (str): The type, without a scope prefix.
        where (str): What ``entries`` is, for the error message.

    Returns:
        int: The index.

    Raises:
        KeyError: If no entry or several entries have that type; the
            message lists the types there are.
    """
    found = [i for i, e in enumerate(entries) if _type_name(e) == type_name]
    if len(found) != 1:
        types = [_type_name(e) for e in entries]
        raise KeyError(f'{where} has {len(found)} entries of type '
                       f'{type_name!r} (types: {types}); address the entry '
                       'by its index')
    return found[0]


def find_hook(hooks: Sequence[dict], type_name: str) -> dict:
    """The one hook config of ``hooks`` (e.g. ``cfg.custom_hooks``) of
    type ``type_name``."""
    return hooks[find_entry(hooks, type_name, 'custom_hooks')]


def resolve_type_keys(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """Replace type names that address list entries in the keys of
    ``options`` by the entries' indices.

    Args:
        cfg (Config): The config the options apply to.
        options (dict): ``--cfg-options`` as parsed by ``DictAction``.

    Returns:
        dict: The options with index keys, for ``Config.merge_from_dict``.
    """
    resolved = {}
    for key, value in options.items():
        node: Any = cfg
        parts: List[str] = []
        for part in key.split('.'):
            if isinstance(node, (list, tuple)) and not part.isdigit():
                part = str(find_entry(node, part, '.'.join(parts)))
            parts.append(part)
            if isinstance(node, (list, tuple)):
                node = node[int(part)] if int(part) < len(node) else None
            else:  # a dict, the Config, or None past the config's keys
                node = node.get(part) if hasattr(node, 'get') else None
        resolved['.'.join(parts)] = value
    return resolved


def load_config(path: str,
                cfg_options: Optional[Dict[str, Any]] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none',
                import_custom_modules: bool = True) -> Config:
    """Load a config as ``tools/train.py`` and ``tools/test.py`` do.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): ``--cfg-options``; list entries may be
            addressed by type (see the module docstring).
        work_dir (str, optional): ``--work-dir``; otherwise the config's,
            or ``./work_dirs/<config name>``.
        launcher (str): ``--launcher``. Defaults to ``'none'``.
        import_custom_modules (bool): Import the config's
            ``custom_imports`` now; the tools import them after checking
            the named checkpoints. Defaults to True.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(path, import_custom_modules=import_custom_modules)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(resolve_type_keys(cfg, cfg_options))
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg
