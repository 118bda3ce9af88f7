"""Visualisation hook that draws every modality of a sample."""
import os.path as osp
from typing import Dict, Optional, Sequence

import mmcv
import numpy as np
from mmdet.engine.hooks import DetVisualizationHook
from mmdet.registry import HOOKS
from mmdet.structures import DetDataSample
from mmengine.fileio import get
from mmengine.runner import Runner
from mmengine.utils import mkdir_or_exist

from .dual_modal_det_local_visualizer import DualModalDetLocalVisualizer


@HOOKS.register_module()
class DualModalDetVisualizationHook(DetVisualizationHook):
    """:class:`DetVisualizationHook` drawing all modalities side by side.

    Each modality's frame is read from the path in the sample's meta
    information (``img_path`` for RGB, ``event_path`` for event by default)
    and drawn by :class:`DualModalDetLocalVisualizer`: frames next to each
    other, ground truth on top, predictions below. Modalities whose path is
    missing from a sample are left out (an RGB-only dataset still works).
    ``tools/test.py --show-dir DIR`` writes one image per sample to
    ``work_dir/<timestamp>/DIR``, named after the RGB (else the first)
    frame.

    Args:
        path_keys (dict[str, str]): Meta key of the frame path of each
            modality. Defaults to ``dict(rgb='img_path',
            event='event_path')``.
        **kwargs: Arguments of :class:`DetVisualizationHook`.
    """

    def __init__(self,
                 path_keys: Dict[str, str] = dict(
                     rgb='img_path', event='event_path'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not path_keys:
            raise ValueError('path_keys must name at least one modality')
        self.path_keys = dict(path_keys)
        self._out_dir: Optional[str] = None

    def before_run(self, runner: Runner) -> None:
        """Check that the visualizer can draw several modalities."""
        if self.draw and not isinstance(self._visualizer,
                                        DualModalDetLocalVisualizer):
            raise TypeError(
                'DualModalDetVisualizationHook needs visualizer=dict('
                "type='DualModalDetLocalVisualizer', ...) in the config, got "
                f'{type(self._visualizer).__name__}')

    def before_test(self, runner: Runner) -> None:
        """Resolve the output directory once."""
        if self.draw and self.test_out_dir is not None:
            self._out_dir = osp.join(runner.work_dir, runner.timestamp,
                                     self.test_out_dir)
            mkdir_or_exist(self._out_dir)

    def load_frames(self, data_sample: DetDataSample) -> Dict[str, np.ndarray]:
        """Read the frames of a sample, (H, W, 3) RGB order, by modality."""
        frames = {}
        for modality, key in self.path_keys.items():
            path = data_sample.metainfo.get(key)
            if path is None:
                continue
            img_bytes = get(path, backend_args=self.backend_args)
            frames[modality] = mmcv.imfrombytes(img_bytes, channel_order='rgb')
        if not frames:
            raise KeyError('no frame path in the sample meta information; '
                           f'looked for {sorted(self.path_keys.values())}')
        return frames

    def after_val_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[DetDataSample]) -> None:
        """Draw the first sample every ``interval`` validation iterations
        to the visualisation backends."""
        if self.draw is False:
            return
        total_curr_iter = runner.iter + batch_idx
        if total_curr_iter % self.interval == 0:
            self._visualizer.add_datasample(
                'val_img',
                self.load_frames(outputs[0]),
                data_sample=outputs[0],
                show=self.show,
                wait_time=self.wait_time,
                pred_score_thr=self.score_thr,
                step=total_curr_iter)

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[DetDataSample]) -> None:
        """Draw every test sample (to ``test_out_dir`` if set)."""
        if self.draw is False:
            return
        for data_sample in outputs:
            self._test_index += 1
            frames = self.load_frames(data_sample)
            # modalities in path_keys order: RGB first when present
            name = next(
                osp.basename(data_sample.metainfo[k])
                for k in self.path_keys.values() if k in data_sample)
            out_file = None
            if self._out_dir is not None:
                out_file = osp.join(self._out_dir,
                                    osp.splitext(name)[0] + '.jpg')
            self._visualizer.add_datasample(
                name if self.show else 'test_img',
                frames,
                data_sample=data_sample,
                show=self.show,
                wait_time=self.wait_time,
                pred_score_thr=self.score_thr,
                out_file=out_file,
                step=self._test_index)
