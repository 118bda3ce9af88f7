"""Report of which weights a loaded checkpoint provided."""
import json
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple

from mmdet3d.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmfusion.engine.model_utils import unwrap_model


def compare_state_dicts(model_state: dict,
                        ckpt_state: dict) -> Dict[str, List[str]]:
    """Split keys into loaded, missing, unexpected and shape-mismatched.

    Args:
        model_state (dict): ``model.state_dict()``.
        ckpt_state (dict): The checkpoint's state dict (keys revised).

    Returns:
        dict[str, list[str]]: ``loaded`` (in both with equal shapes),
        ``missing`` (only in the model), ``unexpected`` (only in the
        checkpoint) and ``shape_mismatch`` (in both, shapes differ; not
        loaded), each sorted.
    """
    report = dict(loaded=[], missing=[], unexpected=[], shape_mismatch=[])
    for key, value in model_state.items():
        if key not in ckpt_state:
            report['missing'].append(key)
        elif tuple(ckpt_state[key].shape) != tuple(value.shape):
            report['shape_mismatch'].append(key)
        else:
            report['loaded'].append(key)
    report['unexpected'] = [k for k in ckpt_state if k not in model_state]
    return {k: sorted(v) for k, v in report.items()}


@HOOKS.register_module()
class CheckpointLoadReportHook(Hook):
    """Log exactly which weights a checkpoint loaded (``load_from`` or
    ``--resume``) and write the lists to ``load_report.json`` in the work
    directory.

    Fine-tuning a model pre-trained with dummy encoders loads the fusion
    and the pose head and leaves the real encoders at their
    initialisation; this report shows it key by key.  ``num_batches_
    tracked`` buffers are ignored, as mmengine does.

    Args:
        revise_keys (Sequence[tuple[str, str]]): Regex substitutions
            applied to the checkpoint keys, as in
            :func:`mmengine.runner.load_checkpoint`.
            Defaults to ``[(r'^module\\.', '')]``.
        filename (str): Report file in the work directory.
            Defaults to ``'load_report.json'``.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 revise_keys: Sequence[Tuple[str,
                                             str]] = ((r'^module\.', ''), ),
                 filename: str = 'load_report.json') -> None:
        self.revise_keys = [tuple(r) for r in revise_keys]
        self.filename = filename

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the checkpoint with the model and report.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        state = checkpoint.get('state_dict', checkpoint)
        revised = {}
        for key, value in state.items():
            for pattern, repl in self.revise_keys:
                key = re.sub(pattern, repl, key)
            revised[key] = value
        model = unwrap_model(runner.model)
        model_state = {
            k: v
            for k, v in model.state_dict().items()
            if not k.endswith('num_batches_tracked')
        }
        revised = {
            k: v
            for k, v in revised.items()
            if not k.endswith('num_batches_tracked')
        }
        report = compare_state_dicts(model_state, revised)
        lines = [
            f'Checkpoint load report: {len(report["loaded"])} loaded, '
            f'{len(report["missing"])} missing, '
            f'{len(report["unexpected"])} unexpected, '
            f'{len(report["shape_mismatch"])} shape mismatch'
        ]
        for kind in ('loaded', 'missing', 'unexpected', 'shape_mismatch'):
            if report[kind]:
                lines.append(f'{kind}:\n  ' + '\n  '.join(report[kind]))
        runner.logger.info('\n'.join(lines))
        if is_main_process():
            with open(osp.join(runner.work_dir, self.filename), 'w') as f:
                json.dump(report, f, indent=1)
