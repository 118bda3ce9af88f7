"""Detection visualizer drawing several aligned modalities side by side."""
from typing import Dict, List, Optional, Union

import mmcv
import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer


@VISUALIZERS.register_module()
class DualModalDetLocalVisualizer(DetLocalVisualizer):
    """:class:`DetLocalVisualizer` for frames keyed by modality.

    ``add_datasample`` also accepts a dict of images such as
    ``{'rgb': (H, W, 3), 'event': (H, W, 3)}`` (RGB channel order). The
    modalities are placed next to each other; the top row shows the ground
    truth, the bottom row the predictions (with the pairing score, if the
    model gives one). Frames of different heights are scaled to the height
    of the first one. A single image is drawn as by the parent class.

    Args:
        **kwargs: Arguments of :class:`DetLocalVisualizer`.
    """

    def add_datasample(self,
                       name: str,
                       image: Union[np.ndarray, Dict[str, np.ndarray]],
                       data_sample: Optional[DetDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3,
                       step: int = 0) -> None:
        """Draw ground truth and predictions and save or show them.

        Args:
            name (str): Image identifier.
            image (np.ndarray or dict[str, np.ndarray]): One (H, W, 3) image
                or such images keyed by modality.
            data_sample (DetDataSample, optional): Annotations and
                predictions. Defaults to None.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the predictions. Defaults to True.
            show (bool): Display the drawing. Defaults to False.
            wait_time (float): Display time (s). Defaults to 0.
            out_file (str, optional): Write the drawing to this file instead
                of the visualisation backends. Defaults to None.
            pred_score_thr (float): Lowest score drawn. Defaults to 0.3.
            step (int): Global step for the backends. Defaults to 0.
        """
        if not isinstance(image, dict):
            return super().add_datasample(name, image, data_sample, draw_gt,
                                          draw_pred, show, wait_time, out_file,
                                          pred_score_thr, step)
        if not image:
            raise ValueError('add_datasample got an empty dict of images')
        drawn_img = self.draw_modalities(image, data_sample, draw_gt,
                                         draw_pred, pred_score_thr)
        self.set_image(drawn_img)
        if show:
            self.show(drawn_img, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn_img[..., ::-1], out_file)
        else:
            self.add_image(name, drawn_img, step)

    def draw_modalities(self,
                        images: Dict[str, np.ndarray],
                        data_sample: Optional[DetDataSample] = None,
                        draw_gt: bool = True,
                        draw_pred: bool = True,
                        pred_score_thr: float = 0.3) -> np.ndarray:
        """Draw a grid: modalities in columns, ground truth / predictions
        in rows.

        Args:
            images (dict[str, np.ndarray]): (H, W, 3) RGB-order images keyed
                by modality.
            data_sample (DetDataSample, optional): Annotations and
                predictions. Defaults to None.
            draw_gt (bool): Draw the ground-truth row. Defaults to True.
            draw_pred (bool): Draw the prediction row. Defaults to True.
            pred_score_thr (float): Lowest score drawn. Defaults to 0.3.

        Returns:
            np.ndarray: The drawing, (rows * H, num_modalities * W', 3).
        """
        classes = self.dataset_meta.get('classes', None)
        palette = self.dataset_meta.get('palette', None)
        height = None
        frames = {}
        for modality, img in images.items():
            if img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f'the {modality!r} image must be (H, W, 3), '
                                 f'got {img.shape}')
            img = img.clip(0, 255).astype(np.uint8)
            if height is None:
                height = img.shape[0]
            elif img.shape[0] != height:
                img = mmcv.imrescale(img, (img.shape[1], height))
            frames[modality] = img

        rows: List[List[np.ndarray]] = []
        if data_sample is not None:
            data_sample = data_sample.cpu()
        if draw_gt and data_sample is not None and \
                'gt_instances' in data_sample:
            rows.append([
                self._label(
                    self._draw_instances(img, data_sample.gt_instances,
                                         classes, palette),
                    f'{modality} ground truth')
                for modality, img in frames.items()
            ])
        if draw_pred and data_sample is not None and \
                'pred_instances' in data_sample:
            preds = data_sample.pred_instances
            preds = preds[preds.scores > pred_score_thr]
            title = 'prediction'
            if 'pair_score' in data_sample:
                title += f' (pair score {data_sample.pair_score:.2f})'
            rows.append([
                self._label(
                    self._draw_instances(img, preds, classes, palette),
                    f'{modality} {title}') for modality, img in frames.items()
            ])
        if not rows:
            rows.append([
                self._label(img, modality) for modality, img in frames.items()
            ])
        return np.concatenate([np.concatenate(r, axis=1) for r in rows],
                              axis=0)

    def _label(self, img: np.ndarray, text: str) -> np.ndarray:
        """Write ``text`` in the top-left corner of ``img``."""
        self.set_image(img)
        self.draw_texts(
            text,
            np.array([5, 5]),
            colors=(255, 255, 255),
            font_sizes=max(8, img.shape[0] // 40),
            bboxes=[{
                'facecolor': 'black',
                'alpha': 0.6,
                'pad': 0.7,
                'edgecolor': 'none'
            }])
        return self.get_image()
