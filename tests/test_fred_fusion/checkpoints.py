"""Checkpoints for the tool and initialisation tests: freshly initialised
FRED detectors, and mmdet's own single-stream YOLOX."""
import torch
from mmengine.config import Config

#: mmdet's YOLOX-s config (its model zoo's ``yolox_s_8x8_300e_coco``).
MMDET_YOLOX_S = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'


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


def mmdet_yolox_checkpoint(path: str,
                           widen_factor: float = 0.5,
                           neck_channels: int = 128,
                           seed: int = 0) -> str:
    """A checkpoint of mmdet's own ``YOLOX`` (80 COCO classes) as mmengine
    writes it, standing in for a model-zoo checkpoint.

    The model is mmdet's YOLOX-s config with the given widths. Every tensor
    is moved away from its initialisation (weights, biases, BatchNorm
    statistics, batch counters) so that a loaded tensor is told apart from
    an initialised one.

    Args:
        path (str): The ``.pth`` file to write.
        widen_factor (float): CSPDarknet width. Defaults to 0.5 (YOLOX-s).
        neck_channels (int): Neck and head channels. Defaults to 128.
        seed (int): Seed of the changes. Defaults to 0.

    Returns:
        str: ``path``.
    """
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
    init_default_scope('mmdet')
    cfg = get_config(MMDET_YOLOX_S).model
    cfg.backbone.widen_factor = widen_factor
    cfg.neck.in_channels = [int(c * widen_factor) for c in (256, 512, 1024)]
    cfg.neck.out_channels = neck_channels
    cfg.bbox_head.in_channels = cfg.bbox_head.feat_channels = neck_channels
    model = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith('num_batches_tracked'):
                tensor.fill_(1000)
            elif name.endswith('running_var'):
                tensor.uniform_(0.5, 2.0, generator=gen)
            else:
                tensor.add_(0.1 * torch.randn(tensor.shape, generator=gen))
    save_checkpoint(
        dict(meta=dict(), state_dict=weights_to_cpu(model.state_dict())), path)
    return path
