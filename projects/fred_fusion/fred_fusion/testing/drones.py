"""Drone appearance per FRED class and its drawing (anti-aliased, with
sub-pixel precision) at a time of its track."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .drone_styles import DRONE_STYLES
from .scene_plan import Drone

_SHIFT = 4  # sub-pixel bits of the cv2 drawing calls


def camera_colour(colour: Sequence[int], camera: dict) -> Tuple[int, ...]:
    """Colour of a scene colour in the RGB camera (BGR)."""
    return tuple(
        int(min(255, round(c * g + camera['offset'])))
        for c, g in zip(colour, camera['gain']))


def draw_drones(canvas: np.ndarray,
                drones: Sequence[Drone],
                t: float,
                origin: Tuple[int, int] = (0, 0),
                camera: Optional[dict] = None) -> None:
    """Draw the drones at time ``t`` in place on ``canvas`` (H, W, 3).

    ``origin`` is the image position of the canvas' top-left pixel;
    ``camera`` maps the scene colours to the RGB camera's colours.
    """
    one = 1 << _SHIFT
    for drone in drones:
        cx, cy, w, h = drone.box(t)
        cx, cy = cx - origin[0], cy - origin[1]

        def pt(u, v):
            return (int(round((cx + u * w - 0.5) * one)),
                    int(round((cy + v * h - 0.5) * one)))

        for part in DRONE_STYLES[drone.label]['parts']:
            kind, colour = part[0], part[3]
            if camera is not None:
                colour = camera_colour(colour, camera)
            if kind == 'line':
                cv2.line(canvas, pt(*part[1]), pt(*part[2]), colour,
                         max(1, round(part[4] * h)), cv2.LINE_AA, _SHIFT)
            elif kind == 'rect':
                (u1, v1), (u2, v2) = part[1], part[2]
                poly = np.array([
                    pt(u1, v1), pt(u2, v1),
                    pt(u2, v2), pt(u1, v2)
                ], np.int32)
                cv2.fillConvexPoly(canvas, poly, colour, cv2.LINE_AA, _SHIFT)
            else:
                axes = (int(round(part[2][0] * w * one)),
                        int(round(part[2][1] * h * one)))
                thick = (-1 if kind == 'disc' else max(1, round(part[4] * h)))
                cv2.ellipse(canvas, pt(*part[1]), axes, 0, 0, 360, colour,
                            thick, cv2.LINE_AA, _SHIFT)


def drone_rois(drones: Sequence[Drone], t0: float, t1: float,
               img_size: Tuple[int, int]) -> List[Tuple[int, int, int, int]]:
    """Image regions ``(x0, y0, x1, y1)`` a drone covers from t0 to t1."""
    rois = []
    for drone in drones:
        boxes = [drone.box(t0), drone.box(t1)]
        x0 = min(cx - w / 2 for cx, _, w, _ in boxes) - 3
        x1 = max(cx + w / 2 for cx, _, w, _ in boxes) + 3
        y0 = min(cy - h / 2 for _, cy, _, h in boxes) - 3
        y1 = max(cy + h / 2 for _, cy, _, h in boxes) + 3
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(x1) + 1, img_size[0]), min(int(y1) + 1, img_size[1])
        if x1 > x0 and y1 > y0:
            rois.append((x0, y0, x1, y1))
    return rois
