"""Initialise every stream of a multi-stream detector from a single-stream
checkpoint (e.g. mmdet's COCO-trained YOLOX)."""
from typing import Dict, List, NamedTuple, Tuple

import torch.nn as nn
from mmdet.registry import WEIGHT_INITIALIZERS
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor


class StreamLoadPlan(NamedTuple):
    """Which tensors of a model come from which tensors of a checkpoint.

    Args:
        loaded (dict[str, str]): Model tensor name -> checkpoint tensor name,
            for the tensors that are loaded.
        mismatched (list[tuple[str, tuple, tuple]]): ``(name, model shape,
            checkpoint shape)`` of tensors left at their initialisation
            because the shapes differ (e.g. a classifier for other classes).
        missing (list[str]): Model tensors the checkpoint has no tensor for
            (left at their initialisation).
        unused (list[str]): Checkpoint tensors no model tensor is loaded
            from.
    """

    loaded: Dict[str, str]
    mismatched: List[Tuple[str, tuple, tuple]]
    missing: List[str]
    unused: List[str]


@WEIGHT_INITIALIZERS.register_module(name='StreamPretrained')
class StreamPretrainedInit(PretrainedInit):
    """Load a single-stream detector checkpoint into every stream.

    A single-stream detector such as mmdet's ``YOLOX`` names its tensors
    ``backbone.*``, ``neck.*`` and ``bbox_head.*``. A multi-stream model
    such as ``DualStreamYOLOX`` has one backbone per stream in the
    ``nn.ModuleDict`` ``backbones`` (``backbones.rgb``,
    ``backbones.event``, or ``backbones.shared``). Each model tensor takes
    the checkpoint tensor of its name, where ``backbones.<stream>.`` reads
    ``backbone.``, when that tensor exists and has the same shape. The
    rest keeps its initialisation: tensors whose shape differs (the
    classifier of a COCO model for 5 or 1 classes), tensors the checkpoint
    does not have (the fusion neck); all of them and the unused
    checkpoint tensors are named in one log block.

    Set it as the model's ``init_cfg``; the Runner applies it when training
    starts (not when resuming, where the checkpoint of the run wins)::

        model = dict(
            type='DualStreamYOLOX',
            init_cfg=dict(type='StreamPretrained', checkpoint=URL_OR_PATH))

    or ``--cfg-options model.init_cfg.type=StreamPretrained
    model.init_cfg.checkpoint=PATH``. Like mmengine's ``Pretrained``, the
    loaded weights must not be overwritten by the submodules' own
    initialisation, which ``BaseModule.init_weights`` runs after the
    ``init_cfg`` of a module: this initialiser initialises the submodules
    first (the parent then skips them) and loads afterwards.

    Args:
        checkpoint (str): Path or URL of the checkpoint (anything
            :class:`mmengine.runner.CheckpointLoader` loads); its weights
            may sit under ``state_dict``, with or without a ``module.``
            prefix.
        streams (str): Name of the model's ``nn.ModuleDict`` of stream
            backbones. Defaults to ``'backbones'``.
        source_prefix (str): Prefix of the backbone tensors in the
            checkpoint. Defaults to ``'backbone.'``.
        map_location (str): Device the checkpoint is loaded to. Defaults
            to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: str,
                 streams: str = 'backbones',
                 source_prefix: str = 'backbone.',
                 map_location: str = 'cpu') -> None:
        super().__init__(checkpoint, map_location=map_location)
        self.streams = streams
        self.source_prefix = source_prefix

    def __call__(self, module: nn.Module) -> None:
        """Initialise ``module``'s submodules, then load the checkpoint.

        Args:
            module (nn.Module): The multi-stream model.
        """
        for child in module.children():
            if hasattr(child, 'init_weights') and not getattr(
                    child, 'is_init', False):
                child.init_weights()
        checkpoint = CheckpointLoader.load_checkpoint(
            self.checkpoint, map_location=self.map_location, logger='current')
        source = checkpoint.get('state_dict', checkpoint)
        source = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in source.items()
        }
        plan = self.plan(module, source)
        module.load_state_dict(
            {
                dst: source[src]
                for dst, src in plan.loaded.items()
            },
            strict=False)
        print_log(self.format_plan(module, plan), logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def plan(self, module: nn.Module, source: Dict[str,
                                                   Tensor]) -> StreamLoadPlan:
        """Match the tensors of ``module`` with those of a checkpoint.

        Args:
            module (nn.Module): The multi-stream model.
            source (dict[str, Tensor]): The checkpoint's state dict.

        Returns:
            StreamLoadPlan: What is loaded from where, and what is not.
        """
        streams = getattr(module, self.streams, None)
        if not isinstance(streams, nn.ModuleDict):
            raise TypeError(
                f'StreamPretrainedInit: {type(module).__name__} has no '
                f'nn.ModuleDict {self.streams!r} of stream backbones')
        prefixes = [f'{self.streams}.{name}.' for name in streams]
        loaded, mismatched, missing, used = {}, [], [], set()
        for name, tensor in module.state_dict().items():
            src = name
            for prefix in prefixes:
                if name.startswith(prefix):
                    src = self.source_prefix + name[len(prefix):]
            if src not in source:
                missing.append(name)
                continue
            used.add(src)
            if tuple(source[src].shape) != tuple(tensor.shape):
                mismatched.append(
                    (name, tuple(tensor.shape), tuple(source[src].shape)))
            else:
                loaded[name] = src
        unused = [k for k in source if k not in used]
        return StreamLoadPlan(loaded, mismatched, missing, unused)

    def format_plan(self, module: nn.Module, plan: StreamLoadPlan) -> str:
        """The log block of a load: counts, then every tensor not loaded
        by name."""
        total = len(module.state_dict())
        streams = ', '.join(f'{self.streams}.{n}.*'
                            for n in getattr(module, self.streams))
        lines = [
            f'StreamPretrainedInit: loaded {len(plan.loaded)} of {total} '
            f'tensors of {type(module).__name__} from {self.checkpoint} '
            f'({self.source_prefix}* into {streams}; other tensors by name)'
        ]
        lines.append(f'  left at initialisation, shape differs (model vs '
                     f'checkpoint): {len(plan.mismatched)}')
        lines.extend(f'    {name}: {list(shape)} vs {list(src_shape)}'
                     for name, shape, src_shape in plan.mismatched)
        lines.append('  left at initialisation, not in the checkpoint: '
                     f'{len(plan.missing)}')
        lines.extend(f'    {name}' for name in plan.missing)
        lines.append(f'  checkpoint tensors not used: {len(plan.unused)}')
        lines.extend(f'    {name}' for name in plan.unused)
        return '\n'.join(lines)
