# The single-modality versions of the model and of the data, written once:
# an rgb or event config applies one, e.g.
#   modality = 'rgb'  # the datasets' (set below)
#   model = _base_.single_modality.rgb.model
#   train_dataloader = _base_.single_modality.rgb.train_dataloader
#   val_dataloader = _base_.single_modality.rgb.val_dataloader
#   test_dataloader = val_dataloader
# (mmengine fixes a base's fields when it reads it, so a child cannot set
# a ``modality`` variable and have the model and the datasets follow).
single_modality = {
    modality:
    dict(
        model=dict(
            modalities=(modality, ),
            data_preprocessor=dict(modalities=(modality, ))),
        train_dataloader=dict(dataset=dict(dataset=dict(modality=modality))),
        val_dataloader=dict(dataset=dict(modality=modality)))
    for modality in ('rgb', 'event')
}
