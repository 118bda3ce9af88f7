import pytest
from mmengine.config import Config

from mmfusion.utils.config import find_hook, load_config, resolve_type_keys


def _cfg():
    return Config(
        dict(
            custom_hooks=[
                dict(type='CheckpointLoadReportHook'),
                dict(type='EpochCSVLoggerHook', filename='metrics.csv'),
                dict(type='mmdet.FreezeScheduleHook', freeze_epochs=5),
            ],
            train_dataloader=dict(
                dataset=dict(pipeline=[
                    dict(type='LoadOdomImages', scale=(320, 96)),
                    dict(type='OdomPointSample', num_points=1024),
                    dict(type='OdomPointSample', num_points=64),
                ]))))


def test_entries_are_addressed_by_type():
    cfg = _cfg()
    options = {
        'custom_hooks.FreezeScheduleHook.freeze_epochs': 2,
        'custom_hooks.EpochCSVLoggerHook.filename': 'log.csv',
        'train_dataloader.dataset.pipeline.LoadOdomImages.scale': (96, 32),
        'train_dataloader.dataset.pipeline.1.num_points': 128,
    }
    assert resolve_type_keys(cfg, options) == {
        'custom_hooks.2.freeze_epochs': 2,
        'custom_hooks.1.filename': 'log.csv',
        'train_dataloader.dataset.pipeline.0.scale': (96, 32),
        'train_dataloader.dataset.pipeline.1.num_points': 128,
    }
    cfg.merge_from_dict(resolve_type_keys(cfg, options))
    assert find_hook(cfg.custom_hooks, 'FreezeScheduleHook').freeze_epochs == 2
    assert cfg.custom_hooks[1].filename == 'log.csv'
    assert cfg.train_dataloader.dataset.pipeline[0].scale == (96, 32)


def test_missing_or_ambiguous_types_are_refused():
    cfg = _cfg()
    with pytest.raises(KeyError, match="0 entries of type 'LossPlotHook'"):
        resolve_type_keys(cfg, {'custom_hooks.LossPlotHook.dpi': 50})
    with pytest.raises(KeyError, match="2 entries of type 'OdomPointSample'"):
        resolve_type_keys(
            cfg, {'train_dataloader.dataset.pipeline.OdomPointSample.x': 1})


def test_load_config_as_the_tools(tmp_path):
    path = tmp_path / 'toy_config.py'
    path.write_text("custom_hooks = [dict(type='EpochCSVLoggerHook')]\n")
    cfg = load_config(
        str(path), {'custom_hooks.EpochCSVLoggerHook.filename': 'x.csv'})
    assert cfg.custom_hooks[0].filename == 'x.csv'
    assert cfg.work_dir == './work_dirs/toy_config'
    assert cfg.launcher == 'none'
    assert load_config(str(path), work_dir='w').work_dir == 'w'
