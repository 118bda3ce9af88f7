# FRED dataset settings on the device augmentation path: the built-in
# sample at data/fred_sample, as ``fred_sample.py`` except for training.
#
# The dataloader workers only read and decode one RGB and one event frame
# per sample, at the size Mosaic / MixUp resize it to
# (``LoadFREDImages(scale_to=img_scale)``: 1280x720 -> 640x360 for 640,
# the JPEG decoded directly at half size), and stack the batch into one
# uint8 (N, 3, H, W) tensor per modality (pinned for the copy to the GPU).
# Mosaic, RandomAffine, MixUp, HSV (RGB only), flip, resize, pad and the
# box filter then run on the whole batch in the data preprocessor
# (``DualModalBatchYOLOXAugment``), with the settings of the CPU train
# pipeline of ``fred_sample.py``; Mosaic / MixUp partners are other
# samples of the batch. A model config adds it with
#   model = dict(data_preprocessor=dict(
#       raw_batch_augments=[_base_.batch_yolox_augment]))
# (the schedule's DualModalYOLOXModeSwitchHook switches Mosaic,
# RandomAffine and MixUp off there in the last epochs).
# Validation and testing are those of ``fred_sample.py``.
#
# A new ``img_scale`` means restating ``train_pipeline`` (see
# ``fred_sample.py``), ``device_train_pipeline`` and the fields using them.
_base_ = ['./fred_sample.py']

# True: event frames from the lossless sparse cache (~0.1 ms a 1280x720
# frame instead of ~9 ms for its PNG; see ``fred_sample.py``), built with
#   python tools/dataset_converters/fred_event_cache.py data/fred_sample
event_cache = False

# Workers: boxes first, so that LoadFREDImages scales them with the frames.
device_train_pipeline = [
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='LoadFREDImages',
        scale_to=_base_.img_scale,
        event_cache=event_cache,
        backend_args=_base_.backend_args),
    dict(type='PackDualModalInputs')
]
train_dataloader = dict(
    pin_memory=True,
    # every batch full: Mosaic and MixUp draw their partners from the
    # batch, and a short last batch would be one more shape to compile
    batch_sampler=dict(type='ResumableBatchSampler', drop_last=True),
    persistent_workers=True,
    collate_fn=dict(type='modal_stack_collate'),
    dataset=dict(
        _base_.train_dataset.dataset,
        pipeline=device_train_pipeline,
        _delete_=True))

# The CPU train pipeline's transforms, without their SyncTransform /
# RGBOnly wrappers and the packing: the same steps and settings, run on
# the batch.
batch_yolox_augment = dict(
    type='DualModalBatchYOLOXAugment',
    transforms=[
        step.get('transform', step) for step in _base_.train_pipeline
        if step['type'] != 'PackDualModalInputs'
    ])
