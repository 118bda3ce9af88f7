"""RGB frames of a sequence: the scene exposed by the sequence's camera
(dark at night) plus sensor noise, as JPEG files named by wall-clock time."""
import os.path as osp

import cv2
import numpy as np

from .drones import draw_drones
from .manifest import rgb_name
from .scene_plan import SequencePlan

# RGB camera per condition: per-channel gain (BGR), offset and noise sigma.
CAMERAS = dict(
    normal=dict(gain=(1.0, 1.0, 1.0), offset=0.0, noise=2.0),
    hover=dict(gain=(1.0, 1.0, 1.0), offset=0.0, noise=2.0),
    dark=dict(gain=(0.06, 0.035, 0.03), offset=2.0, noise=1.5))


def render_rgb_frames(seq: SequencePlan, cfg: dict, rng: np.random.Generator,
                      background: np.ndarray, rgb_dir: str) -> None:
    """Write the RGB frames of ``seq`` into ``rgb_dir``.

    The noise is a random crop of one noise field per sequence.

    Args:
        seq (SequencePlan): The sequence.
        cfg (dict): Sample settings (``img_size``, ``jpeg_quality``).
        rng (np.random.Generator): The sequence's rendering generator.
        background (np.ndarray): The scene without drones, (H, W, 3) BGR.
        rgb_dir (str): The ``RGB`` folder.
    """
    img_w, img_h = cfg['img_size']
    camera = CAMERAS[seq.condition]
    gain = np.array(camera['gain'], np.float32)
    rgb_background = np.clip(background * gain + camera['offset'], 0,
                             255).astype(np.uint8)
    pad = 16
    noise = np.round(
        rng.normal(0, camera['noise'],
                   (img_h + pad, img_w + pad, 3))).astype(np.int16)
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, int(cfg['jpeg_quality'])]
    for rel_us in seq.rgb_us:
        frame = rgb_background.copy()
        draw_drones(frame, seq.drones, rel_us / 1e6, camera=camera)
        dx, dy = rng.integers(0, pad, 2)
        noisy = frame + noise[dy:dy + img_h, dx:dx + img_w]
        frame = np.clip(noisy, 0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(rgb_dir, rgb_name(seq, rel_us)), frame, jpeg)
