"""The static scene behind the drones."""
import cv2
import numpy as np


def make_background(rng: np.random.Generator, img_w: int,
                    img_h: int) -> np.ndarray:
    """Textured sky above textured ground with a tree line.

    Returns:
        np.ndarray: BGR image of shape (H, W, 3), uint8.
    """

    def smooth_noise(cells_x: int, cells_y: int) -> np.ndarray:
        coarse = rng.random((cells_y, cells_x)).astype(np.float32)
        return cv2.resize(
            coarse, (img_w, img_h), interpolation=cv2.INTER_CUBIC)

    ys = np.linspace(0.0, 1.0, img_h, dtype=np.float32)[:, None, None]
    sky_top = np.array(
        rng.uniform([170, 120, 70], [210, 160, 110]), np.float32)
    sky_low = np.array(
        rng.uniform([225, 205, 180], [245, 225, 205]), np.float32)
    sky = sky_top * (1 - ys) + sky_low * ys
    clouds = np.clip(smooth_noise(6, 4) * 1.6 - 0.7, 0, 1)[..., None]
    sky = sky * (1 - 0.6 * clouds) + 245 * 0.6 * clouds
    sky = np.broadcast_to(sky, (img_h, img_w, 3))

    ground_col = np.array(
        rng.uniform([40, 80, 60], [70, 120, 100]), np.float32)
    texture = (
        smooth_noise(max(img_w // 8, 2), max(img_h // 8, 2)) * 0.5 +
        rng.random((img_h, img_w)).astype(np.float32) * 0.3 + 0.6)
    ground = ground_col * texture[..., None]
    # Tree line: the horizon rises and falls along the image width.
    row = (0.72 + 0.06 * smooth_noise(max(img_w // 12, 2), 1)[0] - 0.03)
    horizon = (row * img_h)[None, :]
    below = (np.arange(img_h, dtype=np.float32)[:, None] >= horizon)
    image = np.where(below[..., None], ground, sky)
    return np.clip(image, 0, 255).astype(np.uint8)
