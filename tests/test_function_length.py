"""No function of the runtime code is longer than 80 lines.

Runtime code is what training, testing and prediction import: mmfusion
and the runtime subpackages of each project (``RUNTIME_PACKAGES`` and the
helpers they use, ``structures`` and ``utils``).
"""
import ast
import glob
import os.path as osp

import pytest

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
MAX_LINES = 80
RUNTIME_DIRS = ['mmfusion'] + [
    osp.join('projects', project, project, package)
    for project in ('fred_fusion', 'trimodal_odom')
    for package in ('datasets', 'engine', 'evaluation', 'models', 'structures',
                    'utils', 'visualization')
]


def runtime_files():
    files = []
    for folder in RUNTIME_DIRS:
        files += glob.glob(
            osp.join(REPO, folder, '**', '*.py'), recursive=True)
    return sorted(files)


def long_functions(path: str, max_lines: int = MAX_LINES) -> list:
    """``file:line name (N lines)`` of every function or method of the
    file longer than ``max_lines`` (decorators and docstring included)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] +
                        [d.lineno for d in node.decorator_list])
            length = node.end_lineno - first + 1
            if length > max_lines:
                found.append(f'{osp.relpath(path, REPO)}:{node.lineno} '
                             f'{node.name} ({length} lines)')
    return found


def test_runtime_files_are_found():
    files = runtime_files()
    assert len(files) > 80
    assert any(f.endswith('dual_stream_yolox.py') for f in files)


@pytest.mark.parametrize(
    'path', runtime_files(), ids=lambda p: osp.relpath(p, REPO))
def test_no_function_over_80_lines(path):
    assert long_functions(path) == []


def test_the_check_sees_a_long_function(tmp_path):
    path = tmp_path / 'long.py'
    path.write_text('def f():\n' + '    x = 1\n' * 80)
    assert long_functions(
        str(path)) == [f'{osp.relpath(str(path), REPO)}:1 f (81 lines)']
