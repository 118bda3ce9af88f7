import importlib.util
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample

from tests.test_fred_fusion.checkpoints import init_checkpoint

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO, 'configs', 'fred_fusion',
                  'yolox_w0125_dual-concat_1xb8-demo_fred-sample.py')
TOOL = osp.join(REPO, 'tools', 'deployment', 'export_onnx.py')
TOLERANCE = 1e-3


def _load_tool():
    spec = importlib.util.spec_from_file_location('export_onnx', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load_tool()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, tool):
    return init_checkpoint(CONFIG,
                           str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))


def test_onnx_matches_pytorch(tool, checkpoint, tmp_path, capsys):
    out = str(tmp_path / 'dual.onnx')
    ret = tool.main([
        CONFIG, checkpoint, '--out', out, '--shape', '64', '96',
        '--batch-size', '2', '--atol',
        str(TOLERANCE)
    ])
    printed = capsys.readouterr().out
    assert ret == 0, printed
    assert osp.isfile(out)
    assert 'max abs difference onnxruntime vs PyTorch at 64x96, bboxes' \
        in printed
    assert 'OK: within tolerance' in printed

    import onnx
    graph = onnx.load(out).graph
    assert [i.name for i in graph.input] == ['rgb', 'event']
    assert [o.name for o in graph.output] == ['bboxes', 'scores']


def test_dynamic_height_and_width(tool, checkpoint, tmp_path, capsys):
    """One file exported with dynamic H and W matches PyTorch at the trace
    size, at another size and at 1280x736 (a FRED frame padded to 32)."""
    out = str(tmp_path / 'dynamic.onnx')
    ret = tool.main([
        CONFIG, checkpoint, '--out', out, '--shape', '64', '96',
        '--dynamic-shape', '--check-shape', '96', '160', '--check-shape',
        '736', '1280', '--atol',
        str(TOLERANCE)
    ])
    printed = capsys.readouterr().out
    assert ret == 0, printed
    for h, w in ((64, 96), (96, 160), (736, 1280)):
        for name in ('bboxes', 'scores'):
            assert (f'max abs difference onnxruntime vs PyTorch at {h}x{w}, '
                    f'{name}: ') in printed
    assert 'dynamic H x W' in printed and 'OK: within tolerance' in printed

    import onnx
    graph = onnx.load(out).graph
    for tensor in graph.input:
        dims = [
            d.dim_param or d.dim_value
            for d in tensor.type.tensor_type.shape.dim
        ]
        assert dims == ['batch', 3, 'height', 'width']
    for tensor in graph.output:
        dims = tensor.type.tensor_type.shape.dim
        assert [d.dim_param for d in dims[:2]] == ['batch', 'num_priors']
    # the number of priors follows the input size: (H / s) * (W / s)
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    frame = torch.zeros(1, 3, 736, 1280).numpy()
    bboxes, scores = session.run(None, dict(rgb=frame, event=frame))
    priors = sum((736 // s) * (1280 // s) for s in (8, 16, 32))
    assert bboxes.shape == (1, priors, 4) and scores.shape == (1, priors, 5)


def test_fixed_shape_checks_only_its_shape(tool, checkpoint, tmp_path):
    model = tool.build_detector(CONFIG, checkpoint)
    with pytest.raises(ValueError, match='need --dynamic-shape'):
        tool.export(
            model,
            str(tmp_path / 'x.onnx'), (64, 96),
            check_shapes=[(96, 160)])


def test_onnx_fails_above_tolerance(tool, checkpoint, tmp_path, capsys):
    ret = tool.main([
        CONFIG, checkpoint, '--out',
        str(tmp_path / 'x.onnx'), '--shape', '64', '64', '--atol', '-1'
    ])
    assert ret == 1
    assert 'FAILED' in capsys.readouterr().out


def test_shape_must_fit_strides(tool, checkpoint, tmp_path):
    model = tool.build_detector(CONFIG, checkpoint)
    with pytest.raises(ValueError, match='multiples of 32'):
        tool.export(model, str(tmp_path / 'x.onnx'), (60, 96))


def test_deploy_graph_agrees_with_model_predict(tool, checkpoint):
    """The exported computation (own normalisation and decoding) gives the
    scores of the model's own predict path."""
    model = tool.build_detector(CONFIG, checkpoint,
                                dict(model=dict(test_cfg=dict(score_thr=0.0))))
    gen = torch.Generator().manual_seed(1)
    frames = [
        torch.randint(0, 256, (3, 64, 96), dtype=torch.uint8, generator=gen)
        for _ in range(2)
    ]
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(64, 96), ori_shape=(64, 96), scale_factor=(1., 1.)))
    with torch.no_grad():
        pred = model.test_step(
            dict(
                inputs=dict(rgb=[frames[0]], event=[frames[1]]),
                data_samples=[sample]))[0].pred_instances
        bboxes, scores = tool.DeployDetector(model)(frames[0][None].float(),
                                                    frames[1][None].float())
    assert bboxes.shape[:2] == scores.shape[:2] and scores.shape[2] == 5
    top = scores[0].max(1).values.argmax()
    torch.testing.assert_close(scores[0, top].max(), pred.scores.max())
    torch.testing.assert_close(bboxes[0, top], pred.bboxes[0])
