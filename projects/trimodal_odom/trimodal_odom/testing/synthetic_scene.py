"""A static synthetic 3-D scene along a trajectory, ray cast by LiDAR and
camera (used only by :mod:`.kitti_sample`).

World coordinates are those of the KITTI camera-0 poses: x right, y down,
z forward at the first frame; the ground height is therefore a function
``y = G(x, z)`` and objects stand on it, "up" being ``-y``.

Rays may start from one origin (a camera) or each from its own (a LiDAR
swept along the trajectory, :mod:`.swept_lidar`), and carry times at which
moving boxes (:mod:`.moving_cars`) are placed. Arc intervals of the road
can be left without static objects or lined with continuous walls, the
LiDAR-degenerate stretches of :mod:`.sensor_failures`.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from scipy.ndimage import map_coordinates
from scipy.spatial import cKDTree

CAMERA_HEIGHT = 1.65
ROAD_HALF_WIDTH = 4.5
SIDEWALK_WIDTH = 2.0
GRID_STEP = 2.0
_KINDS = ('building', 'car', 'pole', 'wall')
WALL_HEIGHT = 12.0
_WALL_PIECE = 4.0  # length (m) of the boxes a wall is built of

# albedo (RGB in [0, 1]) and reflectance of the ground materials
_ROAD = (np.array([0.33, 0.33, 0.35]), 0.12)
_LINE = (np.array([0.92, 0.92, 0.88]), 0.75)
_SIDEWALK = (np.array([0.62, 0.60, 0.57]), 0.35)
_GRASS = (np.array([0.30, 0.50, 0.22]), 0.25)
_WINDOW = (np.array([0.18, 0.24, 0.32]), 0.05)
_SUN = np.array([0.35, -0.85, 0.40]) / np.linalg.norm([0.35, -0.85, 0.40])


def hash_noise(cells: np.ndarray, salt: int = 0) -> np.ndarray:
    """Deterministic pseudo-random values in [0, 1) of integer cells.

    Args:
        cells (np.ndarray): Integer cell coordinates of shape (N, K).
        salt (int): Selects an independent pattern. Defaults to 0.

    Returns:
        np.ndarray: Values of shape (N,).
    """
    h = np.full(
        len(cells), (salt * 0x9E3779B1 + 0x85EBCA77) & 0xFFFFFFFF,
        dtype=np.uint64)
    for k in range(cells.shape[1]):
        h ^= cells[:, k].astype(np.int64).astype(
            np.uint64) & np.uint64(0xFFFFFFFF)
        h = (h * np.uint64(0x27D4EB2F165667C5)) & np.uint64(0xFFFFFFFFFFFF)
        h ^= h >> np.uint64(23)
    return (h & np.uint64(0xFFFFFF)).astype(np.float64) / float(1 << 24)


def path_arcs(cam_poses: np.ndarray) -> np.ndarray:
    """Distance travelled on the ground plane (m) at every pose (N,): the
    arc coordinate of the road (:attr:`SyntheticScene.arc`) at each frame.

    Args:
        cam_poses (np.ndarray): Camera-0 poses of shape (N, 4, 4).

    Returns:
        np.ndarray: Arc of each pose, starting at 0, of shape (N,).
    """
    ground = cam_poses[:, :3, 3] + CAMERA_HEIGHT * cam_poses[:, :3, 1]
    step = np.linalg.norm(np.diff(ground[:, [0, 2]], axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(step)])


def box_hits(origins: np.ndarray, dirs: np.ndarray, centre: np.ndarray, yaw,
             half: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Slab test of rays against boxes turned by ``yaw`` about the world's
    y axis.

    Args:
        origins (np.ndarray): Ray origins (R, 3).
        dirs (np.ndarray): Unit directions (R, 3).
        centre (np.ndarray): Box centre (3,), or one per ray (R, 3).
        yaw (float | np.ndarray): Box yaw, or one per ray (R,).
        half (np.ndarray): Half extents (3,) along the box axes.

    Returns:
        tuple[np.ndarray]: Entry distance (R,) (inf: no hit in front of the
        origin) and the box axis (R,) of the face hit.
    """
    c, s = np.cos(yaw), np.sin(yaw)
    o = origins - centre
    o_l = np.stack(
        [c * o[:, 0] - s * o[:, 2], o[:, 1], s * o[:, 0] + c * o[:, 2]], -1)
    d_l = np.stack([
        c * dirs[:, 0] - s * dirs[:, 2], dirs[:, 1],
        s * dirs[:, 0] + c * dirs[:, 2]
    ], -1)
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / d_l
        t1 = (-half - o_l) * inv
        t2 = (half - o_l) * inv
    lo = np.fmin(t1, t2)
    t_near = lo.max(1)
    t_far = np.fmax(t1, t2).min(1)
    hit = (t_near <= t_far) & (t_near > 0)
    return np.where(hit, t_near, np.inf), lo.argmax(1)


class SyntheticScene:
    """Ground height field, road, buildings, parked cars and poles laid out
    along a camera trajectory, with analytic ray casting.

    Args:
        cam_poses (np.ndarray): Camera-0 poses ``T_world_cam0`` of shape
            (N, 4, 4).
        rng (np.random.Generator): Source of the object layout.
        margin (float): How far around the trajectory the scene extends,
            in metres. Defaults to 100.
        clear_arcs (Sequence[tuple[float, float]]): Arc intervals (m, see
            :func:`path_arcs`) of the road along which no static object is
            placed. Defaults to none.
        walls (Sequence[tuple[float, float]]): Arc intervals lined on both
            sides by continuous walls (``WALL_HEIGHT`` high, at the outer
            edge of the sidewalks). Defaults to none.
        parked_lateral (float): Distance (m) of parked cars from the road
            centre to their inner side. Defaults to 2.6 (in the road).

    Attributes:
        movers: Moving boxes (:class:`~.moving_cars.MovingCars` or None),
            placed at the ray times given to :meth:`cast`.
    """

    def __init__(self,
                 cam_poses: np.ndarray,
                 rng: np.random.Generator,
                 margin: float = 100.0,
                 clear_arcs: Sequence[Tuple[float, float]] = (),
                 walls: Sequence[Tuple[float, float]] = (),
                 parked_lateral: float = 2.6) -> None:
        ground = cam_poses[:, :3, 3] + CAMERA_HEIGHT * cam_poses[:, :3, 1]
        self._build_ground(ground, margin)
        self._build_road(ground[:, [0, 2]], margin)
        self.clear_arcs = [tuple(map(float, a)) for a in clear_arcs]
        self.parked_lateral = float(parked_lateral)
        self._build_objects(rng, [tuple(map(float, w)) for w in walls])
        self.movers = None

    # ground ---------------------------------------------------------------
    def _build_ground(self, ground: np.ndarray, margin: float) -> None:
        arc = np.concatenate(
            [[0],
             np.cumsum(np.linalg.norm(np.diff(ground, axis=0), axis=1))])
        ground = ground[np.unique(np.searchsorted(arc, arc // 4 * 4))]
        xz = ground[:, [0, 2]]
        self.origin = xz.min(0) - margin
        shape = np.ceil((xz.max(0) + margin - self.origin) / GRID_STEP) + 1
        gx, gz = (
            self.origin[k] + GRID_STEP * np.arange(int(shape[k]))
            for k in range(2))
        cells = np.stack(np.meshgrid(gx, gz, indexing='ij'), -1)
        d2 = ((cells[:, :, None, :] - xz[None, None])**2).sum(-1)
        # Gaussian weights, shifted so that far cells stay well defined
        w = np.exp(-(d2 - d2.min(-1, keepdims=True)) / (2 * 12.0**2))
        self.height = (w * ground[None, None, :, 1]).sum(-1) / w.sum(-1)

    def ground_y(self,
                 x: np.ndarray,
                 z: np.ndarray,
                 grad: bool = True) -> Tuple[np.ndarray, ...]:
        """Ground ``y`` (bilinear in the height grid) and its gradient.

        Args:
            x (np.ndarray): World x of shape (N,).
            z (np.ndarray): World z of shape (N,).
            grad (bool): Also return the gradient. Defaults to True.

        Returns:
            tuple[np.ndarray]: ``y``, then (if ``grad``) ``dy/dx`` and
            ``dy/dz``, each (N,).
        """
        n = np.array(self.height.shape) - 1
        u = np.clip((x - self.origin[0]) / GRID_STEP, 0, n[0] - 1e-9)
        v = np.clip((z - self.origin[1]) / GRID_STEP, 0, n[1] - 1e-9)
        i, j = u.astype(np.intp), v.astype(np.intp)
        fu, fv = u - i, v - j
        flat = i * self.height.shape[1] + j
        h = self.height.ravel()
        h00, h01 = h[flat], h[flat + 1]
        h10, h11 = h[flat + n[1] + 1], h[flat + n[1] + 2]
        a = h00 + (h10 - h00) * fu
        b = h01 + (h11 - h01) * fu
        y = a + (b - a) * fv
        if not grad:
            return (y, )
        gx = ((h10 - h00) * (1 - fv) + (h11 - h01) * fv) / GRID_STEP
        gz = (b - a) / GRID_STEP
        return y, gx, gz

    def _cast_ground(self, origins: np.ndarray, dirs: np.ndarray,
                     max_range: float) -> np.ndarray:
        """Distances along unit rays (N, 3) from ``origins`` (N, 3) to the
        ground (inf: no hit).

        Rays steeper than any slope of the ground cross it once and start
        from the local tangent plane; flatter rays bracket their first
        crossing by sampling.  Newton steps on
        ``f(t) = y(t) - G(x(t), z(t))`` then refine both.
        """
        t = np.full(len(dirs), np.inf)
        steep = np.flatnonzero(dirs[:, 1] > 0.15)
        o = origins[steep]
        y0 = self.ground_y(o[:, 0], o[:, 2], grad=False)[0]
        t_steep = (y0 - o[:, 1]) / dirs[steep, 1]
        flat = np.flatnonzero(np.abs(dirs[:, 1]) <= 0.15)
        steps = np.geomspace(0.3, max_range, 20)
        px, py, pz = (
            origins[flat, k, None] + dirs[flat, k, None] * steps
            for k in range(3))
        f = py - self._height_at(px, pz)
        k = (f > 0).argmax(1)
        ok = k > 0
        flat, k = flat[ok], k[ok]
        f_lo, f_hi = f[ok, k - 1], f[ok, k]
        lo, hi = steps[k - 1], steps[k]
        t_flat = lo + (hi - lo) * f_lo / (f_lo - f_hi)
        live = np.concatenate([steep, flat])
        tl = np.concatenate([t_steep, t_flat])
        lo = np.concatenate([np.zeros_like(t_steep), lo])
        hi = np.concatenate([np.full_like(t_steep, np.inf), hi])
        d = dirs[live]
        o = origins[live]
        for _ in range(5):
            p = o + tl[:, None] * d
            g, gx, gz = self.ground_y(p[:, 0], p[:, 2])
            df = d[:, 1] - gx * d[:, 0] - gz * d[:, 2]
            df = np.where(np.abs(df) < 1e-9, 1e-9, df)
            tl = np.clip(tl - (p[:, 1] - g) / df, lo, hi)
        p = o + tl[:, None] * d
        ok = np.abs(p[:, 1] - self._height_at(p[:, 0], p[:, 2])) < 1e-5
        t[live[ok]] = tl[ok]
        return t

    def _height_at(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Ground ``y`` of points of any shape (no gradient, fast path)."""
        return map_coordinates(
            self.height, [(x - self.origin[0]) / GRID_STEP,
                          (z - self.origin[1]) / GRID_STEP],
            order=1,
            mode='nearest')

    # road -----------------------------------------------------------------
    def _build_road(self, xz: np.ndarray, margin: float) -> None:
        seg = np.diff(xz, axis=0)
        s = np.concatenate([[0], np.cumsum(np.linalg.norm(seg, axis=1))])
        keep = np.concatenate([[True], np.diff(s) > 1e-3])
        xz, s = xz[keep], s[keep]
        head = (xz[min(5,
                       len(xz) - 1)] - xz[0]) / max(s[min(5,
                                                          len(xz) - 1)], 1e-6)
        tail = (xz[-1] - xz[max(len(xz) - 6, 0)]) / max(
            s[-1] - s[max(len(xz) - 6, 0)], 1e-6)
        self.arc = np.arange(-margin, s[-1] + margin, 0.25)
        pts = np.stack([np.interp(self.arc, s, xz[:, k]) for k in range(2)],
                       -1)
        pts[self.arc < 0] = xz[0] + self.arc[self.arc < 0, None] * head
        after = self.arc > s[-1]
        pts[after] = xz[-1] + (self.arc[after, None] - s[-1]) * tail
        self.centre = pts
        self._road_tree = cKDTree(pts)
        tangent = np.gradient(pts, axis=0)
        self.tangent = tangent / (
            np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-12)

    def road_pose(self, s: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Centre-line points (N, 2) (world x, z) and unit tangents (N, 2)
        at arcs ``s`` (N,) (m, linear between the centre-line samples)."""
        s = np.asarray(s, dtype=np.float64)
        xz = np.stack(
            [np.interp(s, self.arc, self.centre[:, k]) for k in range(2)], -1)
        t = np.stack(
            [np.interp(s, self.arc, self.tangent[:, k]) for k in range(2)], -1)
        return xz, t / (np.linalg.norm(t, axis=-1, keepdims=True) + 1e-12)

    def _cleared(self, s: float) -> bool:
        return any(a <= s <= b for a, b in self.clear_arcs)

    # objects --------------------------------------------------------------
    def _build_objects(self, rng: np.random.Generator,
                       walls: Sequence[Tuple[float, float]]) -> None:
        tangent = self.tangent
        boxes = []

        def add(kind, s, side, lateral, size, salt):
            if self._cleared(s):
                return
            i = int(
                np.clip(np.searchsorted(self.arc, s), 0,
                        len(self.arc) - 1))
            t = tangent[i]
            right = np.array([t[1], -t[0]])  # in (x, z), as camera x
            xz = self.centre[i] + side * (lateral + size[0] / 2) * right
            yaw = np.arctan2(t[0], t[1])
            if self._clear(xz, yaw, size, 1.5) and self._free(boxes, xz):
                boxes.append((kind, xz, yaw, size, salt))

        start, stop = self.arc[0] + 10, self.arc[-1] - 10
        for side in (-1.0, 1.0):
            s = start + rng.uniform(0, 10)
            while s < stop:
                size = np.array([
                    rng.uniform(6, 12),
                    rng.uniform(6, 16),
                    rng.uniform(8, 18)
                ])
                add('building', s, side, rng.uniform(7, 12), size,
                    rng.integers(1 << 16))
                s += size[2] / 2 + rng.uniform(4, 12)
            s = start + rng.uniform(0, 20)
            while s < stop:
                add('pole', s, side, ROAD_HALF_WIDTH + 1.0,
                    np.array([0.3, rng.uniform(5, 8), 0.3]),
                    rng.integers(1 << 16))
                s += rng.uniform(12, 30)
            s = start + rng.uniform(0, 15)
            while s < stop:
                if rng.uniform() < 0.45:
                    add('car', s, side, self.parked_lateral,
                        np.array([1.7, 1.5, 4.3]), rng.integers(1 << 16))
                s += rng.uniform(6, 14)
        for first, last in walls:
            boxes.extend(self._wall_pieces(first, last))
        n = len(boxes)
        self.kind = np.array([_KINDS.index(b[0]) for b in boxes], dtype=int)
        self.yaw = np.array([b[2] for b in boxes])
        self.salt = np.array([b[4] for b in boxes], dtype=np.int64)
        size = np.array([b[3] for b in boxes]).reshape(n, 3)
        xz = np.array([b[1] for b in boxes]).reshape(n, 2)
        foot = self.ground_y(xz[:, 0], xz[:, 1])[0]
        # reach 1 m into the ground so that slopes leave no gap below
        self.half = size / 2
        self.half[:, 1] = (size[:, 1] + 1.0) / 2
        self.centre3 = np.stack(
            [xz[:, 0], foot + 1.0 - self.half[:, 1], xz[:, 1]], -1)
        albedo = rng.uniform(0.35, 0.85, (n, 3))
        albedo[self.kind == 2] = 0.5
        self.albedo = albedo
        self.reflect = np.select([self.kind == 0, self.kind == 1],
                                 [rng.uniform(0.2, 0.5, n), 0.3], 0.7)
        wall = self.kind == 3
        self.albedo[wall] = 0.55
        self.reflect[wall] = 0.4
        self.radius = np.linalg.norm(self.half, axis=1)

    def _wall_pieces(self, first: float, last: float) -> list:
        """Boxes of two walls along the road between arcs ``first`` and
        ``last``, at the outer edge of the sidewalks: on each side a chain
        of thin boxes from one point of the offset centre line to the
        next, so that the wall has no gap on curves."""
        num = max(int(np.ceil((last - first) / _WALL_PIECE)), 1)
        xz, t = self.road_pose(np.linspace(first, last, num + 1))
        right = np.stack([t[:, 1], -t[:, 0]], -1)
        lateral = ROAD_HALF_WIDTH + SIDEWALK_WIDTH + 0.2
        pieces = []
        for side in (-1.0, 1.0):
            ends = xz + side * lateral * right
            for k in range(num):
                chord = ends[k + 1] - ends[k]
                length = float(np.hypot(*chord)) + 0.4  # overlap the next
                pieces.append(
                    ('wall', 0.5 * (ends[k] + ends[k + 1]),
                     np.arctan2(chord[0], chord[1]),
                     np.array([0.4, WALL_HEIGHT,
                               length]), (int(first) * 131 + k) & 0xFFFF))
        return pieces

    def _clear(self, xz, yaw, size, clearance) -> bool:
        c, s = np.cos(yaw), np.sin(yaw)
        rel = self.centre - xz
        lx = c * rel[:, 0] - s * rel[:, 1]
        lz = s * rel[:, 0] + c * rel[:, 1]
        inside = ((np.abs(lx) < size[0] / 2 + clearance) &
                  (np.abs(lz) < size[2] / 2 + clearance))
        return not inside.any()

    @staticmethod
    def _free(boxes, xz) -> bool:
        return all(np.hypot(*(b[1] - xz)) > 2.0 for b in boxes)

    def _cast_boxes(self, origins: np.ndarray, ref: np.ndarray,
                    dirs: np.ndarray,
                    max_range: float) -> Tuple[np.ndarray, ...]:
        """Slab test of unit rays (N, 3) from ``origins`` (N, 3), all within
        ``spread`` of ``ref`` (3,), against the static boxes near them;
        returns distance (inf: none), box index, axis."""
        n = len(dirs)
        t_best = np.full(n, np.inf)
        idx = np.full(n, -1)
        axis = np.zeros(n, dtype=int)
        spread = np.sqrt(((origins - ref)**2).sum(1).max()) if n else 0.0
        offset = self.centre3 - ref
        dist = np.linalg.norm(offset, axis=1)
        for m in np.flatnonzero(dist < max_range + self.radius + spread):
            rays = self._in_cone(dirs, offset[m], dist[m],
                                 self.radius[m] + spread)
            t_near, ax = box_hits(origins[rays], dirs[rays], self.centre3[m],
                                  self.yaw[m], self.half[m])
            better = t_near < t_best[rays]
            t_best[rays[better]] = t_near[better]
            idx[rays[better]] = m
            axis[rays[better]] = ax[better]
        return t_best, idx, axis

    @staticmethod
    def _in_cone(dirs: np.ndarray, offset: np.ndarray, dist: float,
                 radius: float) -> np.ndarray:
        """Indices of the rays pointing into the cone of a sphere of
        ``radius`` at ``offset`` (3,) from the rays' reference origin."""
        if dist <= radius:
            return np.arange(len(dirs))
        cos_cone = np.sqrt(1.0 - (radius / dist)**2)
        return np.flatnonzero(dirs @ offset > cos_cone * dist)

    def _cast_movers(self, origins: np.ndarray, ref: np.ndarray,
                     dirs: np.ndarray, times: np.ndarray,
                     max_range: float) -> Tuple[np.ndarray, ...]:
        """Like :meth:`_cast_boxes` for the moving boxes, each placed at the
        time of every ray; returns distance, mover index, axis and the
        movers' centres (N, 3) and yaws (N,) at the hits."""
        n = len(dirs)
        t_best = np.full(n, np.inf)
        idx = np.full(n, -1)
        axis = np.zeros(n, dtype=int)
        centre = np.zeros((n, 3))
        yaw = np.zeros(n)
        movers = self.movers
        if movers is None or not n:
            return t_best, idx, axis, centre, yaw
        spread = np.sqrt(((origins - ref)**2).sum(1).max())
        t_mid = 0.5 * (times.min() + times.max())
        span = 0.5 * (times.max() - times.min())
        c_mid, _ = movers.poses(
            np.arange(len(movers)), np.full(len(movers), t_mid))
        offset = c_mid - ref
        dist = np.linalg.norm(offset, axis=1)
        reach = movers.radius + spread + movers.max_speed * span
        for m in np.flatnonzero(dist < max_range + reach):
            rays = self._in_cone(dirs, offset[m], dist[m], reach[m])
            c, y = movers.poses(np.full(len(rays), m), times[rays])
            t_near, ax = box_hits(origins[rays], dirs[rays], c, y,
                                  movers.half[m])
            better = t_near < t_best[rays]
            hit = rays[better]
            t_best[hit], idx[hit], axis[hit] = t_near[better], m, ax[better]
            centre[hit], yaw[hit] = c[better], y[better]
        return t_best, idx, axis, centre, yaw

    # casting and materials ------------------------------------------------
    def cast(self,
             origin: np.ndarray,
             dirs: np.ndarray,
             max_range: float,
             times: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Cast unit rays.

        Args:
            origin (np.ndarray): Ray origin in the world, shape (3,), or one
                origin per ray (N, 3).
            dirs (np.ndarray): Unit directions in the world, shape (N, 3).
            max_range (float): Hits farther than this are misses.
            times (np.ndarray, optional): Time (s) of every ray (N,) or one
                time for all, at which :attr:`movers` are placed. Defaults
                to None (the moving boxes are left out).

        Returns:
            dict: ``t`` (N,) distances (inf on a miss), ``hit`` (N,) bool,
            ``normal`` (N, 3) world normals, ``albedo`` (N, 3) RGB,
            ``reflect`` (N,) reflectance and ``mover`` (N,) index of the
            moving box hit (-1: none).
        """
        n = len(dirs)
        origin = np.asarray(origin, dtype=np.float64)
        ref = origin if origin.ndim == 1 else origin[n // 2]
        origins = np.broadcast_to(origin, (n, 3))
        t_ground = self._cast_ground(origins, dirs, max_range)
        t_box, idx, axis = self._cast_boxes(origins, ref, dirs, max_range)
        mover = np.full(n, -1)
        if times is not None and self.movers is not None:
            times = np.broadcast_to(np.asarray(times, dtype=np.float64), (n, ))
            t_mov, m_idx, m_axis, m_centre, m_yaw = self._cast_movers(
                origins, ref, dirs, times, max_range)
            moving = t_mov < t_box
            t_box = np.where(moving, t_mov, t_box)
            mover = np.where(moving, m_idx, -1)
            axis = np.where(moving, m_axis, axis)
        on_box = t_box < t_ground
        t = np.where(on_box, t_box, t_ground)
        hit = t < max_range
        normal = np.zeros((n, 3))
        albedo = np.zeros((n, 3))
        reflect = np.zeros(n)
        points = origins + np.where(hit, t, 0.0)[:, None] * dirs
        g = hit & ~on_box
        if g.any():
            normal[g], albedo[g], reflect[g] = self._ground_material(points[g])
        b = hit & on_box & (mover < 0)
        if b.any():
            i = idx[b]
            normal[b], albedo[b], reflect[b] = self._box_material(
                points[b], dirs[b], axis[b], self.centre3[i], self.yaw[i],
                self._box_look(i))
        b = hit & on_box & (mover >= 0)
        if b.any():
            normal[b], albedo[b], reflect[b] = self._box_material(
                points[b], dirs[b], axis[b], m_centre[b], m_yaw[b],
                self.movers.look(mover[b]))
        mover = np.where(hit, mover, -1)
        return dict(
            t=np.where(hit, t, np.inf),
            hit=hit,
            normal=normal,
            albedo=albedo,
            reflect=reflect,
            mover=mover)

    def _box_look(self, idx: np.ndarray) -> dict:
        """Appearance of static boxes ``idx`` (see :meth:`_box_material`)."""
        return dict(
            kind=self.kind[idx],
            half=self.half[idx],
            salt=self.salt[idx],
            albedo=self.albedo[idx],
            reflect=self.reflect[idx])

    def _ground_material(self, p: np.ndarray):
        _, gx, gz = self.ground_y(p[:, 0], p[:, 2])
        normal = np.stack([gx, -np.ones_like(gx), gz], -1)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        dist = self._road_tree.query(p[:, [0, 2]])[0]
        fine = hash_noise(np.floor(p[:, [0, 2]] / 0.3), 1)
        coarse = hash_noise(np.floor(p[:, [0, 2]] / 1.5), 2)
        tex = 0.75 + 0.3 * fine + 0.2 * coarse
        road = dist < ROAD_HALF_WIDTH
        line = (dist > ROAD_HALF_WIDTH - 0.45) & (dist < ROAD_HALF_WIDTH - 0.3)
        walk = ~road & (dist < ROAD_HALF_WIDTH + SIDEWALK_WIDTH)
        albedo = np.where(road[:, None], _ROAD[0], _GRASS[0])
        albedo = np.where(walk[:, None], _SIDEWALK[0], albedo)
        albedo = np.where(line[:, None], _LINE[0], albedo)
        reflect = np.select([line, road, walk],
                            [_LINE[1], _ROAD[1], _SIDEWALK[1]], _GRASS[1])
        return normal, albedo * tex[:, None], reflect * tex

    @staticmethod
    def _box_material(p, dirs, axis, centre, yaw, look):
        """Normals, albedo and reflectance of hits ``p`` (N, 3) on box faces
        ``axis`` (N,) of boxes at ``centre`` (N, 3) with ``yaw`` (N,) and
        the appearance ``look`` (per hit ``kind``, ``half``, ``salt``,
        ``albedo``, ``reflect``)."""
        c, s = np.cos(yaw), np.sin(yaw)
        o = p - centre
        local = np.stack(
            [c * o[:, 0] - s * o[:, 2], o[:, 1], s * o[:, 0] + c * o[:, 2]],
            -1)
        d_l = np.stack([
            c * dirs[:, 0] - s * dirs[:, 2], dirs[:, 1],
            s * dirs[:, 0] + c * dirs[:, 2]
        ], -1)
        rows = np.arange(len(p))
        n_l = np.zeros_like(local)
        n_l[rows, axis] = -np.sign(d_l[rows, axis])
        normal = np.stack([
            c * n_l[:, 0] + s * n_l[:, 2], n_l[:, 1],
            -s * n_l[:, 0] + c * n_l[:, 2]
        ], -1)
        # face coordinates: u along the face, v height above the bottom
        u = np.where(axis == 0, local[:, 2], local[:, 0])
        v = look['half'][:, 1] - local[:, 1]
        cells = np.stack([np.floor(u / 0.5), np.floor(v / 0.5), axis], -1)
        tex = 0.8 + 0.35 * hash_noise(cells, 3) * 1.0
        tex = tex + 0.1 * hash_noise(look['salt'][:, None] + cells * 7, 4)
        albedo = look['albedo'] * tex[:, None]
        reflect = look['reflect'] * tex
        kind = look['kind']
        side = axis != 1
        window = (kind == 0) & side & (v > 4.0) & (np.mod(u, 3.0) > 1.0) & (
            np.mod(u, 3.0) < 2.2) & (np.mod(v, 3.2) > 1.0) & (
                np.mod(v, 3.2) < 2.4)
        window |= (kind == 1) & side & (v > 1.0 + 1.0) & (v < 1.0 + 1.4)
        albedo[window] = _WINDOW[0] * tex[window, None]
        reflect[window] = _WINDOW[1]
        return normal, albedo, reflect

    def shade(self, cast: Dict[str, np.ndarray],
              dirs: np.ndarray) -> np.ndarray:
        """RGB in [0, 1] of cast rays (N, 3): Lambert shading, distance
        haze and a sky gradient where nothing is hit."""
        light = 0.45 + 0.55 * np.clip(cast['normal'] @ -_SUN, 0, 1)
        rgb = cast['albedo'] * light[:, None]
        sky = np.array([
            0.78, 0.86, 0.95
        ]) - np.clip(-dirs[:, 1:2], 0, 1) * np.array([0.45, 0.35, 0.15])
        haze = 1.0 - np.exp(-np.where(cast['hit'], cast['t'], 0.0) / 150.0)
        rgb = rgb * (1 - haze[:, None]) + sky * haze[:, None]
        return np.where(cast['hit'][:, None], rgb, sky)
