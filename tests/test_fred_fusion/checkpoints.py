"""Checkpoints of freshly initialised FRED detectors for the tool tests."""
import torch
from mmengine.config import Config


def init_checkpoint(config: str, path: str, **model_kwargs) -> str:
    """Build the model of ``config`` (``model_kwargs`` update its
    ``model``), initialise it with seed 0 and save its weights to ``path``
    in mmengine's checkpoint format.

    Returns:
        str: ``path``.
    """
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(config)
    cfg.model.update(model_kwargs)
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path
