"""What importing the projects loads, each in a fresh interpreter.

Training, testing and prediction import the runtime subpackages of a
project (``RUNTIME_PACKAGES``, named in the configs' ``custom_imports``);
neither those nor the package itself may load the sample generators
(``testing``) or the converters and integrity checks (``converters``).
The odometry metric loads without any model code (mmdet3d's models take
seconds to import), and its array code (``evaluation``, what
``tools/analysis_tools/eval_kitti_odom.py`` imports) without torch.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
PROJECTS = {
    'projects.fred_fusion.fred_fusion':
    osp.join('configs', 'fred_fusion', '_base_', 'default_runtime.py'),
    'projects.trimodal_odom.trimodal_odom':
    osp.join('configs', 'trimodal_odom', '_base_', 'default_runtime.py'),
}


def loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; the modules it loaded and its
    import time in seconds."""
    script = (f'import sys, time, json\nstart = time.perf_counter()\n{code}\n'
              'print(json.dumps(dict(seconds=time.perf_counter() - start, '
              'modules=sorted(sys.modules))))')
    out = subprocess.run([sys.executable, '-c', script],
                         cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=REPO),
                         capture_output=True,
                         text=True,
                         timeout=300,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


@pytest.mark.parametrize('package', sorted(PROJECTS))
def test_runtime_imports_no_generator_or_converter(package):
    for code in (f'import {package}',
                 f'import {package} as p\np.register_all_modules()'):
        modules = loaded_after(code)['modules']
        offline = [
            m for m in modules
            if m.startswith((f'{package}.testing', f'{package}.converters'))
        ]
        assert offline == [], f'{code!r} loads {offline}'
    # the runtime subpackages were imported (the check above sees them)
    assert all(f'{package}.{name}' in modules
               for name in ('datasets', 'models', 'evaluation'))


@pytest.mark.parametrize('package', sorted(PROJECTS))
def test_configs_import_the_runtime_packages(package):
    """The configs' ``custom_imports`` are the project's runtime
    subpackages (and mmfusion's engine), so training registers exactly
    what :func:`register_all_modules` does."""
    module = __import__(package, fromlist=['RUNTIME_PACKAGES'])
    cfg = Config.fromfile(
        osp.join(REPO, PROJECTS[package]), import_custom_modules=False)
    assert cfg.custom_imports.imports == ['mmfusion.engine'] + [
        f'{package}.{name}' for name in module.RUNTIME_PACKAGES
    ]


def test_odometry_metric_imports_without_models():
    """The metric and the functional evaluation load neither the odometry
    models nor mmdet3d's or mmdet's (the package ``__init__`` files stay
    light); the generous time bound only catches gross regressions."""
    result = loaded_after(
        'import projects.trimodal_odom.trimodal_odom.evaluation.metrics.'
        'kitti_odom_metric\n'
        'import projects.trimodal_odom.trimodal_odom.evaluation.functional')
    heavy = [
        m for m in result['modules']
        if m.startswith(('mmdet3d.models', 'mmdet.models', 'mmdet3d.datasets',
                         'projects.trimodal_odom.trimodal_odom.models',
                         'projects.trimodal_odom.trimodal_odom.datasets',
                         'matplotlib'))
    ]
    assert heavy == []
    assert result['seconds'] < 20


def test_odometry_evaluation_arrays_import_without_torch():
    """``evaluation`` is the metric's array code; the registered metric
    (``evaluation.metrics``, which needs torch and mmdet3d's registry) is
    imported by the configs and by :func:`register_all_modules` only."""
    package = 'projects.trimodal_odom.trimodal_odom'
    modules = loaded_after(f'import {package}.evaluation')['modules']
    heavy = [
        m for m in modules
        if m.split('.')[0] in ('torch', 'mmcv', 'mmdet', 'mmdet3d')
        or m.startswith(f'{package}.evaluation.metrics')
    ]
    assert heavy == []
