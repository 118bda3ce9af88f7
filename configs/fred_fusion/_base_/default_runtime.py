# FRED runtime: the shared runtime plus mmdet scope, the FRED modules,
# side-by-side RGB / event drawing (tools/test.py --show-dir) and
# checkpoints: periodic, best by COCO mAP and last.
_base_ = '../../_base_/default_runtime.py'

default_scope = 'mmdet'
# The runtime subpackages of the project (its RUNTIME_PACKAGES); the
# converters and the sample generator stay out of training.
custom_imports = dict(
    imports=[
        'mmfusion.engine', 'projects.fred_fusion.fred_fusion.datasets',
        'projects.fred_fusion.fred_fusion.engine',
        'projects.fred_fusion.fred_fusion.evaluation',
        'projects.fred_fusion.fred_fusion.models',
        'projects.fred_fusion.fred_fusion.visualization'
    ],
    allow_failed_imports=False)

default_hooks = dict(
    checkpoint=dict(
        interval=10,
        max_keep_ckpts=3,
        save_best='coco/bbox_mAP',
        rule='greater',
        save_last=True),
    visualization=dict(type='DualModalDetVisualizationHook'))

visualizer = dict(type='DualModalDetLocalVisualizer')

# cuDNN's autotuner picks the fastest convolution kernels for each input
# shape (a dozen shapes with the multi-scale batches); 2.01-2.03x stock
# YOLOX-s with it against 1.93x without (docs/benchmarks.md). No effect on
# CPU.
env_cfg = dict(cudnn_benchmark=True)
