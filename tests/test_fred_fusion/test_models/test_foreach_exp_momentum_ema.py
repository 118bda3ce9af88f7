import copy

import pytest
import torch
import torch.nn as nn
from mmdet.models.layers import ExpMomentumEMA

from mmfusion.engine import HostSyncCounter
from projects.fred_fusion.fred_fusion.models import ForeachExpMomentumEMA


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1),
        nn.BatchNorm2d(4)).to(torch.float64).train()


def _train_step(model: nn.Module, step: int) -> None:
    """Move parameters and BN statistics as training would."""
    gen = torch.Generator().manual_seed(step)
    model(torch.randn(2, 3, 8, 8, generator=gen, dtype=torch.float64))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype))


@pytest.mark.parametrize('update_buffers', [True, False])
@pytest.mark.parametrize('interval', [1, 2])
def test_same_weights_as_exp_momentum_ema(update_buffers, interval):
    model = _model()
    kwargs = dict(
        momentum=0.01,
        gamma=3,
        interval=interval,
        update_buffers=update_buffers)
    ref = ExpMomentumEMA(copy.deepcopy(model), **kwargs)
    fast = ForeachExpMomentumEMA(copy.deepcopy(model), **kwargs)
    for step in range(6):
        _train_step(model, step)
        ref.update_parameters(model)
        fast.update_parameters(model)
    ref_state, fast_state = ref.state_dict(), fast.state_dict()
    assert ref_state.keys() == fast_state.keys()
    for k in ref_state:
        assert torch.equal(ref_state[k], fast_state[k]), k
    # the average really moved away from the trained weights
    assert not torch.equal(fast.module[0].weight, model[0].weight)
    # integer buffers: copied once and then left alone when averaged (as
    # mmengine does), copied every step otherwise
    expected = 1 if update_buffers else 6
    assert int(fast.module[1].num_batches_tracked) == expected


def test_mismatched_source_named():
    fast = ForeachExpMomentumEMA(_model())
    with pytest.raises(KeyError, match='not in the source model'):
        fast.update_parameters(nn.Linear(2, 2))


def test_resumed_from_a_state_dict_without_host_syncs():
    """The step count lives on the host too (no read of the ``steps``
    buffer per update), and a loaded state dict's count is read again."""
    model = _model()
    kwargs = dict(momentum=0.01, gamma=3)
    ref = ExpMomentumEMA(copy.deepcopy(model), **kwargs)
    fast = ForeachExpMomentumEMA(copy.deepcopy(model), **kwargs)
    for step in range(3):
        _train_step(model, step)
        ref.update_parameters(model)
        fast.update_parameters(model)
    resumed = ForeachExpMomentumEMA(_model(), **kwargs)
    resumed.update_parameters(model)  # its own count: 1
    resumed.load_state_dict(fast.state_dict())
    syncs = HostSyncCounter()
    for step in range(3, 6):
        _train_step(model, step)
        ref.update_parameters(model)  # mmdet's: 10 reads per update here
        with syncs:
            resumed.update_parameters(model)
    # one read: the loaded count, at the first update after loading
    assert syncs.total == 1, syncs.summary()
    assert int(resumed.steps) == 6
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
