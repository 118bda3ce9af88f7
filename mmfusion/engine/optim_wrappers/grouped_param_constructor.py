"""An optimizer wrapper constructor that keeps one parameter group per set
of options."""
from typing import List, Optional, Union

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _options_key(group: dict) -> tuple:
    """The options of a parameter group (all but its ``params``), as a key.

    Unhashable values (e.g. a list of betas) are keyed by their ``repr``.
    """
    key = []
    for name in sorted(group):
        if name == 'params':
            continue
        value = group[name]
        try:
            hash(value)
        except TypeError:
            value = repr(value)
        key.append((name, value))
    return tuple(key)


def merge_param_groups(groups: List[dict]) -> List[dict]:
    """Parameter groups with the same options merged into one.

    The merged groups come in the order of their first parameter, and the
    parameters of a group in their order in ``groups``.

    Args:
        groups (list[dict]): Parameter groups, each with ``params`` (a list
            of parameters) and its options (``lr``, ``weight_decay``, ...).

    Returns:
        list[dict]: One group per distinct set of options.
    """
    merged = {}
    for group in groups:
        key = _options_key(group)
        if key not in merged:
            merged[key] = dict(group, params=[])
        merged[key]['params'].extend(group['params'])
    return list(merged.values())


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class GroupedParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """:class:`~mmengine.optim.DefaultOptimWrapperConstructor` with the
    parameters of equal options in one group.

    With a ``paramwise_cfg`` (e.g. YOLOX's ``norm_decay_mult=0.,
    bias_decay_mult=0.``) mmengine's constructor makes one parameter group
    per parameter. Each step of a ``foreach`` optimizer then loops over
    hundreds of groups of one tensor (the dual YOLOX-s: about 700), a few
    kernel launches each, which on a GPU took 34-44 ms of host time an
    iteration. Here the groups that end up with the same options (lr,
    weight decay, momentum, ...) are merged, e.g. into two for YOLOX (with
    and without weight decay): the same update for every parameter, in a
    few launches.

    A checkpoint keeps the optimizer state per group, so a checkpoint made
    with the default constructor (one group per parameter) cannot be
    resumed with this one: torch refuses its optimizer state ("loaded
    state dict has a different number of parameter groups"); its weights
    still load with ``load_from``.

    Config: ``optim_wrapper = dict(...,
    constructor='GroupedParamsOptimWrapperConstructor')``; arguments as
    the default constructor's.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Union[int, float]] = None) -> None:
        """Add the parameter groups of ``module`` to ``params``, merged.

        Args:
            params (list[dict]): Parameter groups, extended in place.
            module (nn.Module): The module whose parameters are added.
            prefix (str): Name prefix of ``module``; '' for the model.
            is_dcn_module (int | float, optional): As the default
                constructor's.
        """
        if prefix:  # a submodule, called from the model's add_params
            super().add_params(params, module, prefix, is_dcn_module)
            return
        groups: List[dict] = []
        super().add_params(groups, module, prefix, is_dcn_module)
        params.extend(merge_param_groups(groups))
