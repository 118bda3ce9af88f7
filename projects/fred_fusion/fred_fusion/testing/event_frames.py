"""Event frames of a sequence from a simple event-camera model.

A pixel fires an ON (white) or OFF (blue) event when its log brightness
moved by more than a threshold since its last event, sampled at a few
sub-steps per frame, plus sparse noise events; the static background gives
no events, so only the regions the drones cover are simulated.
"""
import os.path as osp

import cv2
import numpy as np

from .drones import draw_drones, drone_rois
from .sample_presets import EVENT_STEP_US, ann_time
from .scene_plan import SequencePlan

#: Event frame colours in BGR order (RGB (30, 37, 52), (64, 126, 200),
#: (255, 255, 255)), as in the released event frames.
EVENT_BACKGROUND = (52, 37, 30)
EVENT_OFF = (200, 126, 64)
EVENT_ON = (255, 255, 255)

_LOG_LUT = np.log(np.arange(256, dtype=np.float32) + 8.0)


def log_brightness(image: np.ndarray) -> np.ndarray:
    """Log brightness (H, W) of a BGR image (H, W, 3)."""
    return _LOG_LUT[cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)]


def _fire(polarity: np.ndarray, reference: np.ndarray, background: np.ndarray,
          seq: SequencePlan, t_prev: float, t: float,
          threshold: float) -> None:
    """Fire the events of the step ``t_prev`` -> ``t`` into ``polarity``
    (H, W) and move the reference log brightness of the fired pixels."""
    img_h, img_w = polarity.shape
    for x0, y0, x1, y1 in drone_rois(seq.drones, t_prev, t, (img_w, img_h)):
        patch = background[y0:y1, x0:x1].copy()
        draw_drones(patch, seq.drones, t, origin=(x0, y0))
        log_now = log_brightness(patch)
        ref = reference[y0:y1, x0:x1]
        change = log_now - ref
        on, off = change > threshold, change < -threshold
        pol = polarity[y0:y1, x0:x1]
        pol[on] = 1
        pol[off] = -1
        fired = on | off
        ref[fired] = log_now[fired]


def render_event_frames(seq: SequencePlan, cfg: dict, rng: np.random.Generator,
                        background: np.ndarray, event_dir: str) -> None:
    """Write the event frames of ``seq`` into ``event_dir``.

    The simulation runs over every grid step from the first event frame to
    the last, also through the gaps of the stream, whose frames are not
    written.

    Args:
        seq (SequencePlan): The sequence.
        cfg (dict): Sample settings (``img_size``, ``event_threshold``,
            ``event_substeps``, ``noise_event_rate``).
        rng (np.random.Generator): The sequence's rendering generator.
        background (np.ndarray): The scene without drones, (H, W, 3) BGR.
        event_dir (str): The ``Event/Frames`` folder.
    """
    img_w, img_h = cfg['img_size']
    substeps = int(cfg['event_substeps'])
    noise_rate = cfg['noise_event_rate'] * (2
                                            if seq.condition == 'dark' else 1)
    first_k = seq.event_ks[0]
    t_prev = float(ann_time(first_k - 1))
    scene = background.copy()
    draw_drones(scene, seq.drones, t_prev)
    reference = log_brightness(scene)
    written = set(seq.event_ks)
    for k in range(first_k, seq.last_k + 1):
        t_k = k * EVENT_STEP_US / 1e6
        polarity = np.zeros((img_h, img_w), np.int8)
        for step in range(1, substeps + 1):
            t = t_prev + (t_k - t_prev) * step / substeps
            _fire(polarity, reference, background, seq, t_prev, t,
                  cfg['event_threshold'])
            t_prev = t
        t_prev = t_k
        if k not in written:
            continue
        num_noise = rng.poisson(noise_rate * img_w * img_h)
        ys = rng.integers(0, img_h, num_noise)
        xs = rng.integers(0, img_w, num_noise)
        polarity[ys, xs] = np.where(rng.random(num_noise) < 0.3, 1, -1)
        event = np.empty((img_h, img_w, 3), np.uint8)
        event[:] = EVENT_BACKGROUND
        event[polarity > 0] = EVENT_ON
        event[polarity < 0] = EVENT_OFF
        cv2.imwrite(
            osp.join(event_dir, f'Video_{seq.seq_id}_{k * EVENT_STEP_US}.png'),
            event)
