"""Sizes and settings of the generated FRED samples (presets), and the
time grid of the released files."""
from typing import Dict

#: Annotation / event grid step in seconds, as in the released files.
ANN_STEP = 0.033333
#: Event frame ``k`` is written at ``k * EVENT_STEP_US`` microseconds.
EVENT_STEP_US = 33333
#: RGB frames come at 30 fps.
RGB_FPS = 30.0

SPLIT_NAMES = ('train', 'test', 'challenging_train', 'challenging_test')
CONDITIONS = ('normal', 'dark', 'hover')

_COMMON = dict(
    rgb_jitter_ms=4.0,
    event_substeps=3,
    event_threshold=0.25,
    noise_event_rate=1e-3,
    drone_scale=1.0,
    jpeg_quality=90)

#: Preset sizes; any key may be overridden through ``**overrides``. Every
#: preset has the 16:9 frames of the released FRED (1280x720), so that a
#: model trained on a sample letterboxes real frames the way it was trained.
PRESETS: Dict[str, dict] = dict(
    tiny=dict(
        _COMMON,
        num_sequences=4,
        num_test=2,
        num_frames=20,
        img_size=(160, 90)),
    demo=dict(
        _COMMON,
        num_sequences=12,
        num_test=4,
        num_frames=48,
        img_size=(320, 180)),
    large=dict(
        _COMMON,
        num_sequences=16,
        num_test=6,
        num_frames=300,
        img_size=(1280, 720),
        event_substeps=2,
        drone_scale=0.5))


def sample_settings(preset: str, overrides: dict) -> dict:
    """Merge a preset with overrides and check the result."""
    if preset not in PRESETS:
        raise ValueError(f'Unknown preset {preset!r}; choose one of '
                         f'{sorted(PRESETS)}')
    cfg = dict(PRESETS[preset])
    unknown = sorted(set(overrides) - set(cfg))
    if unknown:
        raise ValueError(f'Unknown sample setting(s) {unknown}; valid '
                         f'settings are {sorted(cfg)}')
    cfg.update(overrides)
    w, h = (int(v) for v in cfg['img_size'])
    cfg['img_size'] = (w, h)
    if w < 32 or h < 32:
        raise ValueError(f'img_size must be at least 32x32, got {w}x{h}')
    if cfg['num_sequences'] < 1:
        raise ValueError('num_sequences must be at least 1, got '
                         f'{cfg["num_sequences"]}')
    if not 0 <= cfg['num_test'] <= cfg['num_sequences']:
        raise ValueError(f'num_test must lie in [0, num_sequences], got '
                         f'{cfg["num_test"]}')
    if cfg['num_frames'] < 8:
        raise ValueError('num_frames must be at least 8, got '
                         f'{cfg["num_frames"]}')
    if not 0 <= cfg['rgb_jitter_ms'] <= 8:
        raise ValueError('rgb_jitter_ms must lie in [0, 8] so that every RGB '
                         'frame matches one annotation time, got '
                         f'{cfg["rgb_jitter_ms"]}')
    return cfg


def ann_time(k: int) -> str:
    """Annotation time of grid step ``k`` as written in the files."""
    return f'{k * ANN_STEP:.6f}'
