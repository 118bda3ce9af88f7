"""Cars driving along the road of a synthetic scene, each on its own
trajectory (used only by :mod:`.hard_sample`).

Two kinds, on the lanes beside the ego car's (right-hand traffic): oncoming
cars on the left lane at a constant speed, and cars of the same direction
on the right lane that follow the ego car's speed with a constant offset
(overtaking or falling behind slowly, the case that pulls a scan
registration towards "not moving"). Positions are arcs of the road's
centre line (:meth:`~.synthetic_scene.SyntheticScene.road_pose`), so the
cars follow its curves; heights follow the ground.
"""
from typing import Dict, List

import numpy as np

from .synthetic_scene import ROAD_HALF_WIDTH

#: Car size (m): width, height, length.
CAR_SIZE = (1.7, 1.5, 4.3)
LANE_OFFSET = 2.5  # lateral offset (m) of the lanes beside the ego lane


class MovingCars:
    """Traffic of a scene: ``arc(t) = a + b t + c s_ego(t)`` per car.

    Args:
        scene (SyntheticScene): The scene whose road the cars follow; they
            become its :attr:`~.synthetic_scene.SyntheticScene.movers`.
        frame_times (np.ndarray): Times of the ego frames (N,), s.
        frame_arcs (np.ndarray): Road arcs of the ego frames (N,), m
            (:func:`~.synthetic_scene.path_arcs`).
        rng (np.random.Generator): Source of the traffic.
        spacing (float): Mean ego distance (m) between two cars of each
            kind. Defaults to 60.
        oncoming_speed (tuple[float, float]): Range of the oncoming speed
            (m/s). Defaults to (8, 15).
        relative_speed (tuple[float, float]): Range of the speed of the
            same-direction cars relative to the ego car (m/s).
            Defaults to (-1.5, 1.5).
    """

    def __init__(
        self,
        scene,
        frame_times: np.ndarray,
        frame_arcs: np.ndarray,
        rng: np.random.Generator,
        spacing: float = 60.0,
        oncoming_speed=(8.0, 15.0),
        relative_speed=(-1.5, 1.5)
    ) -> None:
        if ROAD_HALF_WIDTH < LANE_OFFSET + CAR_SIZE[0] / 2:
            raise ValueError('the road is too narrow for the lanes')
        self.scene = scene
        self._times = np.asarray(frame_times, dtype=np.float64)
        self._arcs = np.asarray(frame_arcs, dtype=np.float64)
        cars: List[Dict] = []
        length = self._arcs[-1]
        for kind in ('oncoming', 'same'):
            s = rng.uniform(0, spacing)
            while s < length + spacing / 2:
                # the ego time at which the car is level with it (oncoming)
                # or at its offset ``d0`` (same direction)
                t_m = float(np.interp(s, self._arcs, self._times))
                if kind == 'oncoming':
                    v = rng.uniform(*oncoming_speed)
                    cars.append(
                        dict(
                            kind=kind,
                            a=s + v * t_m,
                            b=-v,
                            c=0.0,
                            lateral=-LANE_OFFSET))
                else:
                    dv = rng.uniform(*relative_speed)
                    d0 = rng.uniform(-20.0, 30.0)
                    cars.append(
                        dict(
                            kind=kind,
                            a=d0 - dv * t_m,
                            b=dv,
                            c=1.0,
                            lateral=LANE_OFFSET))
                s += rng.uniform(0.5, 1.5) * spacing
        self.cars = cars
        k = len(cars)
        self._a = np.array([c['a'] for c in cars]).reshape(k)
        self._b = np.array([c['b'] for c in cars]).reshape(k)
        self._c = np.array([c['c'] for c in cars]).reshape(k)
        self._lateral = np.array([c['lateral'] for c in cars]).reshape(k)
        self.half = np.tile(np.array(CAR_SIZE) / 2, (k, 1))
        self.radius = np.linalg.norm(self.half, axis=1)
        ego_speed = np.diff(self._arcs) / np.maximum(
            np.diff(self._times), 1e-6)
        self.max_speed = float(
            np.abs(self._b).max(initial=0.0) +
            (ego_speed.max(initial=0.0) if k else 0.0))
        self._albedo = rng.uniform(0.2, 0.9, (k, 3))
        self._salt = rng.integers(1 << 16, size=k)

    def __len__(self) -> int:
        return len(self.cars)

    def arcs(self, idx: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Road arcs (R,) of cars ``idx`` (R,) at times (R,)."""
        ego = np.interp(times, self._times, self._arcs)
        return self._a[idx] + self._b[idx] * times + self._c[idx] * ego

    def poses(self, idx: np.ndarray, times: np.ndarray):
        """World centres (R, 3) and yaws (R,) of cars ``idx`` (R,) at
        ``times`` (R,)."""
        idx = np.asarray(idx, dtype=int)
        times = np.asarray(times, dtype=np.float64)
        xz, t = self.scene.road_pose(self.arcs(idx, times))
        right = np.stack([t[:, 1], -t[:, 0]], -1)
        xz = xz + self._lateral[idx, None] * right
        foot = self.scene.ground_y(xz[:, 0], xz[:, 1], grad=False)[0]
        centre = np.stack([xz[:, 0], foot - self.half[idx, 1], xz[:, 1]], -1)
        return centre, np.arctan2(t[:, 0], t[:, 1])

    def look(self, idx: np.ndarray) -> dict:
        """Appearance of cars ``idx`` for the scene's box material."""
        return dict(
            kind=np.ones(len(idx), dtype=int),
            half=self.half[idx],
            salt=self._salt[idx],
            albedo=self._albedo[idx],
            reflect=np.full(len(idx), 0.3))

    def manifest(self) -> List[dict]:
        """The trajectory parameters of every car (JSON-serialisable)."""
        return [
            dict(
                kind=c['kind'],
                lateral=float(c['lateral']),
                arc=dict(a=float(c['a']), b=float(c['b']), c=float(c['c'])))
            for c in self.cars
        ]
