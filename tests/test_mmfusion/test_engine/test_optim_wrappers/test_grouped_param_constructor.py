"""``GroupedParamsOptimWrapperConstructor``: the default constructor's
options per parameter, in one group per set of options, and the same
training."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn

import mmfusion.engine  # noqa: F401  (registers the constructor)
from mmfusion.engine.optim_wrappers import merge_param_groups

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..', '..'))

YOLOX_PARAMWISE = dict(norm_decay_mult=0., bias_decay_mult=0.)


def toy_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def sgd_cfg(constructor: str = None, **optimizer) -> dict:
    cfg = dict(
        type='OptimWrapper',
        optimizer=dict(
            type='SGD',
            lr=0.1,
            momentum=0.9,
            weight_decay=5e-4,
            nesterov=True,
            **optimizer),
        paramwise_cfg=YOLOX_PARAMWISE)
    if constructor:
        cfg['constructor'] = constructor
    return cfg


def options_per_param(optimizer) -> dict:
    """id(parameter) -> its group's options."""
    return {
        id(p): {
            k: v
            for k, v in group.items() if k != 'params'
        }
        for group in optimizer.param_groups
        for p in group['params']
    }


def test_two_groups_with_the_default_options_of_every_parameter():
    model = toy_model()
    default = build_optim_wrapper(model, sgd_cfg())
    grouped = build_optim_wrapper(
        model, sgd_cfg('GroupedParamsOptimWrapperConstructor'))
    # mmengine: one group per parameter
    assert [len(g['params']) for g in default.optimizer.param_groups
            ] == [1] * len(list(model.parameters()))
    # here: with and without weight decay (norms and biases)
    groups = grouped.optimizer.param_groups
    assert len(groups) == 2
    assert sorted(g['weight_decay'] for g in groups) == [0.0, 5e-4]
    params = [p for g in groups for p in g['params']]
    assert len(params) == len({id(p)
                               for p in params}) == len(
                                   list(model.parameters()))
    assert options_per_param(grouped.optimizer) == options_per_param(
        default.optimizer)
    # the weights with decay: the two convolution kernels and the linear
    decayed = next(g for g in groups if g['weight_decay'])
    assert [p.shape for p in decayed['params']] == [(8, 3, 3, 3), (8, 8, 3, 3),
                                                    (4, 8)]


@pytest.mark.parametrize('foreach', [False, True])
def test_training_equals_the_default_constructor(foreach):
    torch.manual_seed(1)
    batches = [(torch.randn(4, 3, 8, 8), torch.randint(0, 4, (4, )))
               for _ in range(3)]
    weights = []
    for constructor in (None, 'GroupedParamsOptimWrapperConstructor'):
        model = toy_model()
        wrapper = build_optim_wrapper(model,
                                      sgd_cfg(constructor, foreach=foreach))
        for x, y in batches:
            wrapper.update_params(nn.functional.cross_entropy(model(x), y))
        weights.append(copy.deepcopy(model.state_dict()))
    for key, value in weights[0].items():
        torch.testing.assert_close(weights[1][key], value, rtol=0, atol=0)


def test_merge_keeps_first_appearance_order_and_unhashable_options():
    a, b, c = (nn.Parameter(torch.zeros(1)) for _ in range(3))
    groups = [
        dict(params=[a], lr=0.1, betas=[0.9, 0.99]),
        dict(params=[b], lr=0.2, betas=[0.9, 0.99]),
        dict(params=[c], lr=0.1, betas=[0.9, 0.99]),
    ]
    merged = merge_param_groups(groups)
    assert [g['lr'] for g in merged] == [0.1, 0.2]
    assert merged[0]['params'] == [a, c] and merged[1]['params'] == [b]
    assert merged[0]['betas'] == [0.9, 0.99]


def test_fred_schedule_gives_two_groups_for_the_dual_detector():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    import projects.fred_fusion.fred_fusion  # noqa: F401
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'fred_fusion',
                 'yolox_s_dual-concat_1xb8-300e_fred.py'))
    cfg.model.backbone.widen_factor = 0.125
    cfg.model.fusion_neck.in_channels = [32, 64, 128]
    cfg.model.neck.out_channels = 16
    cfg.model.bbox_head.update(in_channels=16, feat_channels=16)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = wrapper.optimizer.param_groups
    assert len(groups) == 2
    assert sum(len(g['params'])
               for g in groups) == len(list(model.parameters()))


def test_optimizer_state_of_the_default_constructor_is_refused():
    model = toy_model()
    default = build_optim_wrapper(model, sgd_cfg())
    grouped = build_optim_wrapper(
        model, sgd_cfg('GroupedParamsOptimWrapperConstructor'))
    with pytest.raises(ValueError, match='number of parameter groups'):
        grouped.load_state_dict(default.state_dict())
    # its own state round-trips
    grouped.load_state_dict(grouped.state_dict())
