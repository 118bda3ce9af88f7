# The seed's ``--freeze_visual``: the visual encoder keeps its (loaded)
# weights for the whole run; use ``load_from`` to start from a checkpoint.
# Freezing only the first N epochs:
#   --cfg-options custom_hooks.FreezeScheduleHook.freeze_epochs=N
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
custom_hooks = _base_.custom_hooks + [
    dict(
        type='FreezeScheduleHook',
        modules=['encoders.visual'],
        freeze_epochs=_base_.train_cfg.max_epochs)
]
