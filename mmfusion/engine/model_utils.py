"""Model helpers shared by the hooks that act on named modules."""
from typing import Dict, Sequence

import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a wrapper (DDP, ...), or the model itself."""
    return model.module if is_model_wrapper(model) else model


def named_submodules(model: nn.Module, names: Sequence[str],
                     owner: str) -> Dict[str, nn.Module]:
    """Look up modules by their (dotted) names.

    Args:
        model (nn.Module): The unwrapped model.
        names (Sequence[str]): Names as in ``model.named_modules()``.
        owner (str): Who asks, for the error message.

    Returns:
        dict[str, nn.Module]: The modules, in the order of ``names``.

    Raises:
        KeyError: If a name is not a module of ``model``; the message lists
            the model's top-level modules.
    """
    named = dict(model.named_modules())
    missing = [name for name in names if name not in named]
    if missing:
        top = [name for name, _ in model.named_children()]
        raise KeyError(f'{owner}: {type(model).__name__} has no module '
                       f'named {missing}; its top-level modules are {top}')
    return {name: named[name] for name in names}
