# The dual demo (yolox_w0125_dual-concat_1xb8-demo_fred-sample.py) on the
# device augmentation path: the workers only load the frames (at the
# demo's 320x180); flip, resize, pad and the box filter of the demo's
# train pipeline run on the batch in the data preprocessor. Its COCO mAP50
# compares with the demo's over seeds (docs/benchmarks.md).
_base_ = './yolox_w0125_dual-concat_1xb8-demo_fred-sample.py'

train_dataloader = dict(
    pin_memory=True,
    # every batch full: Mosaic and MixUp draw their partners from the
    # batch, and a short last batch would be one more shape to compile
    batch_sampler=dict(type='ResumableBatchSampler', drop_last=True),
    collate_fn=dict(type='modal_stack_collate'),
    dataset=dict(
        _base_.train_dataloader.dataset.dataset,
        pipeline=[
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='LoadFREDImages', scale_to=_base_.img_scale),
            dict(type='PackDualModalInputs')
        ],
        _delete_=True))
model = dict(
    data_preprocessor=dict(raw_batch_augments=[
        dict(
            type='DualModalBatchYOLOXAugment',
            transforms=[
                step.get('transform', step) for step in _base_.train_pipeline
                if step['type'] != 'PackDualModalInputs'
            ],
            padded_gt=True)
    ]))

# the step that never waits for the device, as in
# yolox_s_dual-concat_1xb8-300e_device-aug_fred.py
optim_wrapper = dict(deferred=True, optimizer=dict(fused=True))
default_hooks = dict(runtime_info=dict(type='DeferredRuntimeInfoHook'))
