"""TrainingCompiler on a small convolutional module: dynamic shapes compile
once for every size, static shapes once per size up to the limit, copies
start empty, and the compile log names module, shapes and seconds."""
import copy
import pickle

import pytest
import torch
import torch.nn as nn

from mmfusion.engine import (TrainingCompiler, dynamic_shape_workarounds,
                             get_compile_log)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """dynamo's caches are process-wide: other tests' compilations of the
    same code would count towards the limits tested here."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def conv_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.SiLU(),
        nn.Conv2d(8, 4, 3, stride=2, padding=1))


def train_step(compiler: TrainingCompiler, net: nn.Module, h: int,
               w: int) -> torch.Tensor:
    x = torch.randn(2, 3, h, w)
    out = compiler.run('net', net, x)
    out.sum().backward()
    return out


def dynamo_events(start: int) -> list:
    return [e for e in get_compile_log().events(start) if e.kind == 'dynamo']


def test_dynamic_shapes_compile_once_for_all_sizes():
    net = conv_net()
    compiler = TrainingCompiler(backend='aot_eager', num_input_sizes=3)
    start = len(get_compile_log())
    for h, w in ((32, 48), (64, 48), (48, 96)):
        out = train_step(compiler, net, h, w)
        assert out.shape == (2, 4, h // 2, w // 2)
    (event, ) = dynamo_events(start)
    assert event.module == 'net'
    assert event.input_shapes == ((2, 3, 32, 48), )
    assert event.seconds > 0
    assert compiler.compiled_modules == ('net', )
    # the compiled function gives the eager module's output and gradients
    x = torch.randn(2, 3, 40, 56)
    net.zero_grad()
    compiler.run('net', net, x).sum().backward()
    grad = net[0].weight.grad.clone()
    net.zero_grad()
    expected = net(x)
    expected.sum().backward()
    torch.testing.assert_close(compiler.run('net', net, x), expected)
    torch.testing.assert_close(net[0].weight.grad, grad)


def test_static_shapes_compile_per_size_and_stop_at_the_limit():
    net = conv_net()
    compiler = TrainingCompiler(
        shapes='static', backend='eager', num_input_sizes=2)
    assert compiler.recompile_limit == 4 * 2
    compiler = TrainingCompiler(
        shapes='static', backend='eager', recompile_limit=2)
    start = len(get_compile_log())
    train_step(compiler, net, 32, 32)
    train_step(compiler, net, 64, 32)
    train_step(compiler, net, 32, 32)
    assert [e.input_shapes
            for e in dynamo_events(start)] == [((2, 3, 32, 32), ),
                                               ((2, 3, 64, 32), )]
    with pytest.raises(
            RuntimeError,
            match=r'compiling net \(Sequential\) '
            r'for inputs \[\(2, 3, 96, 32\)\] would exceed its '
            'recompile limit of 2'):
        train_step(compiler, net, 96, 32)


def test_copies_and_pickles_start_without_compiled_functions():
    net = conv_net()
    compiler = TrainingCompiler(
        shapes='static', backend='eager', recompile_limit=5)
    train_step(compiler, net, 32, 32)
    for clone in (copy.deepcopy(compiler),
                  pickle.loads(pickle.dumps(compiler))):
        assert clone.compiled_modules == ()
        assert (clone.shapes, clone.backend,
                clone.recompile_limit) == ('static', 'eager', 5)
    assert compiler.compiled_modules == ('net', )


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='shapes must be one of'):
        TrainingCompiler(shapes='auto')
    with pytest.raises(ValueError, match='recompile_limit must be >= 1'):
        TrainingCompiler(recompile_limit=0)
    with pytest.raises(ValueError, match='num_input_sizes must be >= 1'):
        TrainingCompiler(num_input_sizes=0)


def test_inductor_workaround_only_where_needed():
    workaround = {'triton.coalesce_tiling_analysis': False}
    assert dynamic_shape_workarounds(True, (2, 11)) == workaround
    assert dynamic_shape_workarounds(True, (2, 13)) == {}
    assert dynamic_shape_workarounds(False, (2, 11)) == {}


class SizeRecorder:
    """A dynamo backend that runs the graph eagerly and records the
    symbolic sizes of its outputs."""

    def __init__(self) -> None:
        self.sizes = []

    def __call__(self, gm: torch.fx.GraphModule, example_inputs):
        (output, ) = [n for n in gm.graph.nodes if n.op == 'output']
        for value in torch.fx.node.map_arg(output.args, lambda n: n)[0]:
            self.sizes.append(
                [str(s) for s in value.meta['example_value'].shape])
        return gm.forward


def hw_sizes(recorder: SizeRecorder) -> list:
    return [size[2:] for size in recorder.sizes]


@pytest.mark.parametrize('divisible', [True, False])
def test_divisible_sizes_give_dynamo_multiples_of_a_symbol(divisible):
    net = conv_net().to(memory_format=torch.channels_last)
    recorder = SizeRecorder()
    compiler = TrainingCompiler(
        backend=recorder, num_input_sizes=2, divisible_sizes=divisible)
    start = len(get_compile_log())
    outs = []
    for h, w in ((64, 96), (96, 64)):
        x = torch.randn(2, 3, h, w).to(memory_format=torch.channels_last)
        out = compiler.run('net', net, x, size_divisor=32)
        out.sum().backward()
        outs.append(out)
        assert out.shape == (2, 4, h // 2, w // 2)
    # one compilation for both sizes, logged with the images' shapes
    (event, ) = dynamo_events(start)
    assert event.input_shapes == ((2, 3, 64, 96), )
    assert outs[1].is_contiguous(memory_format=torch.channels_last)
    # the stride-2 convolution's output size: 16 * (H / 32) instead of
    # a floor division of H
    (sizes, ) = hw_sizes(recorder)
    if divisible:
        assert all('//' not in s and s.startswith('16*') for s in sizes)
    else:
        assert all('//' in s for s in sizes)


def test_divisible_sizes_keep_outputs_and_gradients():
    net = conv_net()
    compiler = TrainingCompiler(backend='aot_eager')
    x = torch.randn(2, 3, 64, 32)
    out = compiler.run('net', net, x, size_divisor=32)
    out.sum().backward()
    grad = net[0].weight.grad.clone()
    net.zero_grad()
    expected = net(x)
    expected.sum().backward()
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(net[0].weight.grad, grad)


def test_sizes_that_are_not_multiples_of_the_divisor_are_refused():
    compiler = TrainingCompiler(backend='aot_eager')
    with pytest.raises(
            ValueError,
            match=r'net got an input of shape \(2, 3, 48, 64\) whose height '
            'and width are not multiples of 32'):
        compiler.run(
            'net', conv_net(), torch.randn(2, 3, 48, 64), size_divisor=32)


@pytest.mark.parametrize('settings, graphs', [
    (dict(), False),
    (dict(mode='reduce-overhead'), True),
    (dict(mode='max-autotune'), True),
    (dict(mode='max-autotune-no-cudagraphs'), False),
    (dict(mode='reduce-overhead', options={'triton.cudagraphs': False
                                           }), False),
    (dict(options={'triton.cudagraphs': True}), True),
    (dict(backend='aot_eager', mode='reduce-overhead'), False),
])
def test_iteration_starts_are_marked_for_cuda_graphs(settings, graphs):
    """With CUDA graphs, begin_step marks a new iteration for inductor's
    graph trees (once something is compiled); otherwise it does nothing."""
    from torch._inductor.cudagraph_trees import MarkStepBox
    compiler = TrainingCompiler(**settings)
    assert compiler.uses_cuda_graphs is graphs
    before = MarkStepBox.mark_step_counter
    compiler.begin_step()  # nothing compiled yet
    assert MarkStepBox.mark_step_counter == before
    compiler._compiled['net'] = nn.Identity()
    compiler.begin_step()
    assert MarkStepBox.mark_step_counter == before - int(graphs)
