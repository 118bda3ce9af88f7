"""FRED RGB + event drone detection dataset."""
import os.path as osp
from typing import List, Optional

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import MMLogger

from .fred_data_error import DataProblem, FREDDataError
from .fusion_stats import format_fusion_stats

MODALITIES = ('rgb', 'event', 'dual')
_REQUIRED_KEYS = ('img_id', 'img_path', 'event_path', 'time_diff', 'height',
                  'width', 'instances')


@DATASETS.register_module()
class FREDDataset(BaseDetDataset):
    """FRED dataset read from a fusion annotation file.

    The annotation file is written by
    ``tools/dataset_converters/fred_converter.py``: one entry per RGB frame
    with its nearest event frame and their time difference. Every data info
    carries ``img_path`` (RGB), ``event_path`` and ``modality`` so that
    :class:`LoadFREDImages` loads what the modality needs. Classes are the
    file's (the five drone models, or ``('drone', )``).

    Args:
        modality (str): ``'rgb'``, ``'event'`` or ``'dual'``. Defaults to
            ``'dual'``.
        fusion_threshold (float, optional): Largest ``|time_diff|`` in
            seconds of a pair; re-applied to every entry at load. None
            keeps the file's threshold. Defaults to None.
        use_fusion_info (bool): Drop unpaired samples (counted and logged)
            if True, keep them otherwise. Defaults to True.
        check_files (bool): Check at load that every frame the modality
            needs exists. Defaults to True.
        **kwargs: Arguments of :class:`mmdet.datasets.BaseDetDataset`
            (``ann_file``, ``data_root``, ``data_prefix``, ``filter_cfg``
            with ``filter_empty_gt`` / ``min_size``, ``pipeline``,
            ``test_mode``, ...).
    """

    METAINFO = {
        'palette': [(220, 20, 60), (0, 130, 255), (255, 179, 0), (0, 200, 120),
                    (170, 60, 255)]
    }

    def __init__(self,
                 *args,
                 modality: str = 'dual',
                 fusion_threshold: Optional[float] = None,
                 use_fusion_info: bool = True,
                 check_files: bool = True,
                 **kwargs) -> None:
        if modality not in MODALITIES:
            raise ValueError(f'modality must be one of {MODALITIES}, got '
                             f'{modality!r}')
        self.modality = modality
        self.fusion_threshold = fusion_threshold
        self.use_fusion_info = use_fusion_info
        self.check_files = check_files
        self._fusion_stats = None
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load the entries, re-threshold pairs and drop unpaired ones.

        Returns:
            list[dict]: Data infos.
        """
        logger = MMLogger.get_current_instance()
        data_list = super().load_data_list()
        classes = self._metainfo.get('classes')
        if not classes:
            raise FREDDataError([
                DataProblem('malformed_annotation_file', self.ann_file,
                            'metainfo has no classes')
            ])
        self._metainfo['classes'] = tuple(classes)
        self._metainfo['palette'] = list(
            self._metainfo['palette'])[:len(classes)]
        if self.fusion_threshold is None:
            self.fusion_threshold = self._metainfo.get('fusion_threshold')
            if self.fusion_threshold is None:
                raise FREDDataError([
                    DataProblem('malformed_annotation_file', self.ann_file,
                                'metainfo has no fusion_threshold')
                ])
        self._metainfo['fusion_threshold'] = self.fusion_threshold

        paired = 0
        sum_abs_diff = 0.
        for info in data_list:
            info['paired'] = abs(info['time_diff']) <= self.fusion_threshold
            paired += info['paired']
            sum_abs_diff += abs(info['time_diff'])
        total = len(data_list)
        self._fusion_stats = dict(
            paired=paired,
            total=total,
            dual_rate=paired / total if total else 0.,
            mean_abs_time_diff_ms=1e3 * sum_abs_diff / total if total else 0.,
            fusion_threshold=self.fusion_threshold,
            dropped_unpaired=0)
        logger.info(f'{self.ann_file}: {self.fusion_stats_str()} '
                    f'(threshold {self.fusion_threshold} s)')
        if self.use_fusion_info:
            data_list = [info for info in data_list if info['paired']]
            dropped = total - len(data_list)
            self._fusion_stats['dropped_unpaired'] = dropped
            logger.info(f'{self.ann_file}: use_fusion_info drops {dropped} '
                        f'unpaired of {total} samples')
        if self.check_files:
            self._check_files(data_list)
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Join the data prefix to both paths and add the modality.

        Args:
            raw_data_info (dict): One entry of the annotation file.

        Returns:
            dict: The data info.
        """
        missing = [k for k in _REQUIRED_KEYS if k not in raw_data_info]
        if missing:
            raise FREDDataError([
                DataProblem(
                    'malformed_annotation_file', self.ann_file,
                    f'entry {raw_data_info.get("img_id", "?")} lacks '
                    f'{missing}')
            ])
        info = dict(raw_data_info)
        prefix = self.data_prefix.get('img', '')
        info['img_path'] = osp.join(prefix, info['img_path'])
        info['event_path'] = osp.join(prefix, info['event_path'])
        info['modality'] = self.modality
        num_classes = len(self._metainfo['classes'])
        for inst in info['instances']:
            if not 0 <= inst['bbox_label'] < num_classes:
                raise FREDDataError([
                    DataProblem(
                        'unknown_class', self.ann_file,
                        f'entry {info["img_id"]} has label '
                        f'{inst["bbox_label"]} outside the '
                        f'{num_classes} classes')
                ])
        return info

    def _check_files(self, data_list: List[dict]) -> None:
        keys = {
            'rgb': ('img_path', ),
            'event': ('event_path', ),
            'dual': ('img_path', 'event_path')
        }[self.modality]
        problems = [
            DataProblem(
                'missing_frame', info[k],
                f'frame of entry {info["img_id"]} in '
                f'{self.ann_file} does not exist') for info in data_list
            for k in keys if not osp.isfile(info[k])
        ]
        if problems:
            raise FREDDataError(problems)

    def filter_data(self) -> List[dict]:
        """Filter by ``filter_cfg``: empty ground truth and small frames.

        Returns:
            list[dict]: The kept data infos.
        """
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        filter_empty_gt = self.filter_cfg.get('filter_empty_gt', False)
        min_size = self.filter_cfg.get('min_size', 0)
        kept = [
            info for info in self.data_list
            if min(info['width'], info['height']) >= min_size and not (
                filter_empty_gt and not any(not inst['ignore_flag']
                                            for inst in info['instances']))
        ]
        removed = len(self.data_list) - len(kept)
        if removed:
            MMLogger.get_current_instance().info(
                f'{self.ann_file}: filter_cfg {self.filter_cfg} drops '
                f'{removed} of {len(self.data_list)} samples')
        return kept

    @property
    def fusion_stats(self) -> dict:
        """dict: ``paired``, ``total``, ``dual_rate``,
        ``mean_abs_time_diff_ms``, ``fusion_threshold`` and
        ``dropped_unpaired``, over the annotation file before filtering."""
        if self._fusion_stats is None:
            self.full_init()
        return dict(self._fusion_stats)

    def fusion_stats_str(self) -> str:
        """The seed-style line, e.g. ``Fusion: Dual Rate: 5120/13629
        (37.6%), Avg Time Diff: 15.23ms``.

        Returns:
            str: The line.
        """
        stats = self.fusion_stats
        return format_fusion_stats(stats['paired'], stats['total'],
                                   stats['mean_abs_time_diff_ms'])
