"""YOLOX with one backbone stream per modality and fused features."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.detectors import SingleStageDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, OptSampleList, SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmfusion.engine import TrainingCompiler, count_input_sizes

StreamFeats = Dict[str, Tuple[Tensor, ...]]


@MODELS.register_module()
class DualStreamYOLOX(SingleStageDetector):
    """YOLOX on one or several aligned modalities (e.g. RGB + event).

    Architecture::

        rgb   -> backbones.rgb   -> (C3, C4, C5) --+
                                                  +-> fusion_neck -> neck
        event -> backbones.event -> (C3, C4, C5) --+    -> bbox_head

    Each modality has its own backbone built from the same ``backbone``
    config (or one shared backbone, ``share_weights=True``, registered as
    ``backbones.shared``). With a single modality the fusion neck is not
    built and the stream's features go straight to the neck, so single- and
    dual-modality models run the same code. The neck (e.g. YOLOXPAFPN) gets
    its ``in_channels`` from the fusion neck's output channels (from the
    fusion neck's ``in_channels`` with one modality); the head is mmdet's
    YOLOX head with its losses, SimOTA assignment and NMS.

    An optional pairing discriminator classifies true versus mismatched
    pairs from the last backbone level of the first two streams; its loss
    is added in training and its score is written as ``pair_score`` into
    each prediction's meta information.

    Args:
        backbone (dict): Backbone config of one stream (e.g. CSPDarknet).
        neck (dict): Neck config; ``in_channels`` is filled in.
        bbox_head (dict): Head config (e.g. YOLOXHead).
        fusion_neck (dict): Fusion neck config (e.g. FusionNeck); its
            ``in_channels`` are the backbone's output channels.
        modalities (Sequence[str]): Input modalities, in order.
            Defaults to ``('rgb', 'event')``.
        share_weights (bool): One backbone for all modalities.
            Defaults to False.
        pair_discriminator (dict, optional): Pairing discriminator config
            (e.g. PairDiscriminator); needs two modalities. Defaults to None.
        val_loss (bool): Also compute the loss on validation batches;
            mmengine's ValLoop logs their sum as ``val/loss`` (and again as
            ``val/val_loss``). Defaults to False.
        channels_last (bool): Keep weights and images in the channels-last
            memory layout, which runs the convolutions much faster on
            recent GPUs (the same results up to rounding). Defaults to
            False.
        compile_network (bool or dict): Compile the training forward of
            the backbones, the fusion neck, the neck and the head's
            convolutions (its ``forward``) with ``torch.compile``, through
            :class:`~mmfusion.engine.TrainingCompiler`: compiled at the
            first training batch, kept out of the module tree (parameter
            names, checkpoints, EMA copies unchanged); validation,
            prediction and export stay eager. A dict gives the compiler's
            arguments: ``shapes`` (``'dynamic'``, the default: one
            compilation for all multi-scale sizes, or ``'static'``: one
            per size), ``recompile_limit``, ``backend``, ``mode``,
            ``options``, ``fullgraph``, ``divisible_sizes`` (True, the
            default: dynamo is told that H and W of the backbones'
            images are multiples of the head's largest stride, which cuts
            the dynamic-shape compile time of the backbones). The head's
            assignment, losses and post-processing, whose shapes change
            from batch to batch, stay eager. Fused element-wise kernels
            save time and the memory of intermediate activations.
            Defaults to False.
        train_cfg (dict, optional): Training config of the head.
        test_cfg (dict, optional): Testing config of the head.
        data_preprocessor (dict, optional): Data preprocessor config, e.g.
            DualModalDetDataPreprocessor.
        init_cfg (dict or list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 bbox_head: ConfigType,
                 fusion_neck: ConfigType,
                 modalities: Sequence[str] = ('rgb', 'event'),
                 share_weights: bool = False,
                 pair_discriminator: OptConfigType = None,
                 val_loss: bool = False,
                 channels_last: bool = False,
                 compile_network: Union[bool, dict] = False,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        # SingleStageDetector.__init__ builds a single ``self.backbone``;
        # the streams are built here instead.
        super(SingleStageDetector, self).__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(modalities, str) or len(modalities) == 0 or len(
                set(modalities)) != len(modalities):
            raise ValueError('modalities must be a non-empty sequence of '
                             f'distinct names, got {modalities!r}')
        self.modalities = tuple(modalities)
        pre_modalities = getattr(self.data_preprocessor, 'modalities', None)
        if pre_modalities is not None and tuple(
                pre_modalities) != self.modalities:
            raise ValueError(
                f'the data preprocessor batches {list(pre_modalities)} but '
                f'the detector expects {list(self.modalities)}')
        self.share_weights = share_weights

        if share_weights:
            self.backbones = nn.ModuleDict(
                dict(shared=MODELS.build(copy.deepcopy(backbone))))
        else:
            self.backbones = nn.ModuleDict({
                m:
                MODELS.build(copy.deepcopy(backbone))
                for m in self.modalities
            })

        self._build_necks(fusion_neck, neck)

        bbox_head = copy.deepcopy(bbox_head)
        bbox_head.update(train_cfg=train_cfg)
        bbox_head.update(test_cfg=test_cfg)
        self.bbox_head = MODELS.build(bbox_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

        if pair_discriminator is not None:
            if len(self.modalities) < 2:
                raise ValueError('the pairing discriminator needs two '
                                 f'modalities, got {list(self.modalities)}')
            self.pair_discriminator = MODELS.build(pair_discriminator)
        else:
            self.pair_discriminator = None
        self.val_loss = val_loss
        self.channels_last = channels_last
        if channels_last:
            # in-place initialisation and ``.to(device)`` keep the layout
            self.to(memory_format=torch.channels_last)
        self.train_compiler: Optional[TrainingCompiler] = None
        if compile_network:
            kwargs = {} if compile_network is True else dict(compile_network)
            kwargs.setdefault('num_input_sizes',
                              count_input_sizes(self.data_preprocessor))
            self.train_compiler = TrainingCompiler(**kwargs)

    def _build_necks(self, fusion_neck: ConfigType, neck: ConfigType) -> None:
        """The fusion neck (several modalities only) and the neck, whose
        ``in_channels`` are the fused features'."""
        fusion_neck = copy.deepcopy(fusion_neck)
        if len(self.modalities) > 1:
            fusion_neck.setdefault('num_streams', len(self.modalities))
            self.fusion_neck = MODELS.build(fusion_neck)
            neck_in_channels = list(self.fusion_neck.out_channels)
        else:
            self.fusion_neck = None
            neck_in_channels = list(fusion_neck['in_channels'])
        neck = copy.deepcopy(neck)
        given = neck.get('in_channels')
        if given is not None and list(given) != neck_in_channels:
            raise ValueError(
                f'neck in_channels {list(given)} do not match the fused '
                f'features {neck_in_channels}; leave them unset, they are '
                'taken from the fusion neck')
        neck['in_channels'] = neck_in_channels
        self.neck = MODELS.build(neck)

    @property
    def with_fusion(self) -> bool:
        """bool: Whether the streams are fused (several modalities)."""
        return self.fusion_neck is not None

    @property
    def input_size_divisor(self) -> int:
        """int: What the height and width of the images are multiples of:
        the head's largest stride (the neck's top-down path needs it)."""
        return max(max(s) for s in self.bbox_head.prior_generator.strides)

    @property
    def with_pair_discriminator(self) -> bool:
        """bool: Whether the pairing discriminator is used."""
        return self.pair_discriminator is not None

    def backbone_of(self, modality: str) -> nn.Module:
        """The backbone that encodes ``modality``."""
        return self.backbones['shared' if self.share_weights else modality]

    def extract_stream_feats(self,
                             batch_inputs: Dict[str, Tensor],
                             compiled: bool = False) -> StreamFeats:
        """Run each modality through its backbone.

        Args:
            batch_inputs (dict[str, Tensor]): Images keyed by modality,
                each (N, C, H, W).
            compiled (bool): Run the compiled backbones (training, with
                ``compile_network``). Defaults to False.

        Returns:
            dict[str, tuple[Tensor]]: Multi-level features per modality.
        """
        self._check_inputs(batch_inputs)
        if self.channels_last:
            batch_inputs = {
                m: x.contiguous(memory_format=torch.channels_last)
                for m, x in batch_inputs.items()
            }
        feats = {}
        for m in self.modalities:
            name = 'backbones.' + ('shared' if self.share_weights else m)
            feats[m] = tuple(
                self._call(
                    name,
                    self.backbone_of(m),
                    compiled,
                    batch_inputs[m],
                    size_divisor=self.input_size_divisor))
        return feats

    def fuse(self,
             stream_feats: StreamFeats,
             compiled: bool = False) -> Tuple[Tensor, ...]:
        """Fuse the streams level by level (identity for one stream)."""
        feats = [stream_feats[m] for m in self.modalities]
        if not self.with_fusion:
            return feats[0]
        return self._call('fusion_neck', self.fusion_neck, compiled, feats)

    def extract_feat(self, batch_inputs: Dict[str,
                                              Tensor]) -> Tuple[Tensor, ...]:
        """Backbone streams, fusion and neck.

        Args:
            batch_inputs (dict[str, Tensor]): Images keyed by modality,
                each (N, C, H, W).

        Returns:
            tuple[Tensor]: Neck features per level, (N, C', H_i, W_i).
        """
        return self.neck(self.fuse(self.extract_stream_feats(batch_inputs)))

    def loss(self, batch_inputs: Dict[str, Tensor],
             batch_data_samples: SampleList) -> dict:
        """Detection losses (and the pairing loss) of a batch.

        Args:
            batch_inputs (dict[str, Tensor]): Images keyed by modality,
                each (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Samples with
                ``gt_instances``.

        Returns:
            dict[str, Tensor]: Losses (and ``pair_acc``).
        """
        if self.train_compiler is not None:
            self.train_compiler.begin_step()
        stream_feats, head_outs = self._run_network(
            batch_inputs, compiled=True)
        return self._losses(stream_feats, head_outs, batch_data_samples)

    def predict(self,
                batch_inputs: Dict[str, Tensor],
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detections (and pairing scores) of a batch.

        Args:
            batch_inputs (dict[str, Tensor]): Images keyed by modality,
                each (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Samples with meta
                information.
            rescale (bool): Rescale boxes to the original image.
                Defaults to True.

        Returns:
            list[DetDataSample]: Samples with ``pred_instances`` (``bboxes``
            (n, 4), ``scores`` (n, ), ``labels`` (n, )) and, with the
            discriminator, ``pair_score`` in the meta information.
        """
        stream_feats, head_outs = self._run_network(batch_inputs)
        return self._predictions(stream_feats, head_outs, batch_data_samples,
                                 rescale)

    def _forward(self,
                 batch_inputs: Dict[str, Tensor],
                 batch_data_samples: OptSampleList = None
                 ) -> Tuple[List[Tensor], ...]:
        """Raw head outputs (class scores, boxes, objectness per level)."""
        return self.bbox_head.forward(self.extract_feat(batch_inputs))

    def val_step(self, data: Union[tuple, dict, list]) -> list:
        """Predictions of a validation batch, followed by its losses when
        ``val_loss`` is set (the format mmengine's ValLoop logs).

        Validation pipelines load the boxes after resizing (mmdet's
        convention, so that they stay in original image coordinates for
        the metric); for the losses they are scaled by ``scale_factor``
        into the network input.
        """
        data = self.data_preprocessor(data, False)
        if not self.val_loss:
            return self._run_forward(data, mode='predict')
        samples = data['data_samples']
        # one network pass for both the losses and the predictions
        with torch.no_grad():
            stream_feats, head_outs = self._run_network(data['inputs'])
            losses = self._losses(
                stream_feats, head_outs,
                [self._gt_in_input_space(s) for s in samples])
            outputs = self._predictions(stream_feats, head_outs, samples)
        # One summed ``loss`` (mmengine's ValLoop sums every key holding
        # "loss" into ``val_loss`` as well); ``pair_acc`` is kept.
        logged = {k: v for k, v in losses.items() if 'loss' not in k}
        logged['loss'] = sum(v for k, v in losses.items() if 'loss' in k)
        return list(outputs) + [BaseDataElement(loss=logged)]

    def _run_network(self,
                     batch_inputs: Dict[str, Tensor],
                     compiled: bool = False
                     ) -> Tuple[StreamFeats, Tuple[List[Tensor], ...]]:
        """Backbone streams and the raw outputs of the head (compiled in
        training with ``compile_network``)."""
        stream_feats = self.extract_stream_feats(batch_inputs, compiled)
        neck_feats = self._call('neck', self.neck, compiled,
                                self.fuse(stream_feats, compiled))
        head_outs = self._call('bbox_head', self.bbox_head, compiled,
                               neck_feats)
        return stream_feats, head_outs

    def _call(self,
              name: str,
              module: nn.Module,
              compiled: bool,
              *args,
              size_divisor: int = 1) -> object:
        """``module(*args)``, through its compiled function if asked and
        ``compile_network`` is set (``size_divisor``: what H and W of the
        4-D arguments are multiples of, see
        :meth:`~mmfusion.engine.TrainingCompiler.run`)."""
        if compiled and self.train_compiler is not None:
            return self.train_compiler.run(
                name, module, *args, size_divisor=size_divisor)
        return module(*args)

    def _losses(self, stream_feats: StreamFeats, head_outs: Tuple[List[Tensor],
                                                                  ...],
                batch_data_samples: SampleList) -> dict:
        """Head losses (as ``bbox_head.loss``) plus the pairing loss."""
        gt_instances, gt_ignore, img_metas = unpack_gt_instances(
            batch_data_samples)
        losses = self.bbox_head.loss_by_feat(*head_outs, gt_instances,
                                             img_metas, gt_ignore)
        if self.with_pair_discriminator:
            losses.update(
                self.pair_discriminator.loss(*self._pair_feats(stream_feats),
                                             batch_data_samples))
        return losses

    def _predictions(self,
                     stream_feats: StreamFeats,
                     head_outs: Tuple[List[Tensor], ...],
                     batch_data_samples: SampleList,
                     rescale: bool = True) -> SampleList:
        """Post-processed detections (as ``bbox_head.predict``) and pairing
        scores written into the samples."""
        results_list = self.bbox_head.predict_by_feat(
            *head_outs,
            batch_img_metas=[s.metainfo for s in batch_data_samples],
            rescale=rescale)
        batch_data_samples = self.add_pred_to_datasample(
            batch_data_samples, results_list)
        if self.with_pair_discriminator:
            scores = self.pair_discriminator.predict(
                *self._pair_feats(stream_feats))
            for data_sample, score in zip(batch_data_samples, scores):
                data_sample.set_metainfo(
                    dict(pair_score=float(score.detach())))
        return batch_data_samples

    @staticmethod
    def _gt_in_input_space(data_sample: DetDataSample) -> DetDataSample:
        """Copy of a sample whose ground-truth boxes are scaled from the
        original image to the network input."""
        gt = data_sample.gt_instances.clone()
        w_scale, h_scale = data_sample.metainfo.get('scale_factor', (1., 1.))
        gt.bboxes = gt.bboxes * gt.bboxes.new_tensor(
            [w_scale, h_scale, w_scale, h_scale])
        out = DetDataSample(metainfo=data_sample.metainfo)
        out.gt_instances = gt
        return out

    def _pair_feats(self, stream_feats: StreamFeats) -> Tuple[Tensor, Tensor]:
        """Last-level features of the first two streams."""
        return (stream_feats[self.modalities[0]][-1],
                stream_feats[self.modalities[1]][-1])

    def _check_inputs(self, batch_inputs: Dict[str, Tensor]) -> None:
        """Raise an error naming the problem if the inputs do not fit."""
        if not isinstance(batch_inputs, dict):
            raise TypeError(
                'DualStreamYOLOX expects inputs keyed by modality '
                f'({list(self.modalities)}), got '
                f'{type(batch_inputs).__name__}; use a data preprocessor '
                'such as DualModalDetDataPreprocessor')
        missing = [m for m in self.modalities if m not in batch_inputs]
        if missing:
            raise KeyError(f'modality {missing} missing from the inputs, '
                           f'which have {sorted(batch_inputs)}')
        ref: Optional[torch.Size] = None
        for m in self.modalities:
            x = batch_inputs[m]
            if not isinstance(x, Tensor) or x.dim() != 4:
                got = tuple(x.shape) if isinstance(
                    x, Tensor) else type(x).__name__
                raise ValueError(f'{m!r} input must be (N, C, H, W), got '
                                 f'{got}')
            if ref is None:
                ref = x.shape
            elif (x.shape[0], *x.shape[2:]) != (ref[0], *ref[2:]):
                raise ValueError(
                    f'{m!r} input {tuple(x.shape)} does not match '
                    f'{self.modalities[0]!r} input {tuple(ref)} in batch '
                    'size or spatial size')
