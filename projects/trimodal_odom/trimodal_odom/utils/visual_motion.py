"""Motion between two camera frames from tracked corners with LiDAR depth.

The visual half of LiDAR-visual odometry systems such as DEMO (Zhang,
Kaess and Singh, "A real-time method for depth enhanced visual odometry",
Autonomous Robots 2017) and LIMO (Graeter, Wilczynski and Lauer, IROS
2018): corners of the earlier image are tracked into the later one
(OpenCV's pyramidal Lucas-Kanade, kept where tracking back lands on the
start), the earlier frame's LiDAR points give their depth, and the motion
is the perspective-n-point solution of those 3D points and their tracked
pixels (RANSAC, then Levenberg-Marquardt on the inliers).

Depth of a corner: the scan is moved into the sensor frame at mid-sweep
(the time of the frame and its image, :func:`~.deskew.deskew_points`,
with a motion guess) and projected into the image; the corner's ray is
cut with the plane through its ``depth_neighbors`` nearest projected
points within ``max_pixel_distance`` pixels (LIMO's local plane), and it
gets no depth where one of them lies off that plane by more than
``max_plane_residual`` of the depth: at an occlusion edge the neighbours
lie on two surfaces.

The road (``ground_warp``): between two frames a metre apart the ground
near the car is stretched by the perspective far more than a
translation-only Lucas-Kanade window follows (on KITTI-size renders of the
hard sample, tracked from where the true motion puts them, 40-80 % of the
road's corners ended more than a pixel from it, against 5-11 % on the
faces of buildings and parked cars). The
corners on the ground plane (the plane of their LiDAR neighbours
horizontal and at the ground's height) are tracked instead in the later
image warped by the homography the ground induces under the guessed
motion, which undoes that stretch, and their tracks are mapped back.

Where the LiDAR leaves directions free (an open road: the ground holds the
height, roll and pitch only; a corridor: nothing holds the travel), the
image still sees texture moving along them; this estimate fills them in a
remapped registration (``remap_degenerate(fill=...)`` of
:mod:`.registration`). Dark, saturated or blurred images leave too few
corners or consistent tracks, which the estimate reports as not converged
(``min_inliers``).
"""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy.spatial import cKDTree

from .deskew import SWEEP_TIME, deskew_points
from .se3 import make_pose, se3_inverse

#: Entries of :meth:`VisualMotion.settings` that are not its arguments.
VISUAL_FIXED = ('method', 'opencv_version')


def camera_from_velo(Tr: np.ndarray,
                     P: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Intrinsics ``K`` (3, 3) and the transform (4, 4) from the LiDAR
    frame into the frame of the camera of a KITTI projection matrix.

    Args:
        Tr (np.ndarray): LiDAR to rectified camera-0 frame (3, 4) / (4, 4).
        P (np.ndarray): Projection matrix (3, 4) of the camera, ``P = K [I |
            b]`` from rectified camera-0 coordinates (``P2`` of the colour
            camera).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``K`` and ``T_cam_velo``.
    """
    P = np.asarray(P, dtype=np.float64).reshape(3, 4)
    K = P[:, :3]
    Tr4 = np.eye(4)
    Tr4[:3] = np.asarray(Tr, dtype=np.float64).reshape(-1, 4)[:3]
    offset = np.eye(4)
    offset[:3, 3] = np.linalg.solve(K, P[:, 3])
    return K, offset @ Tr4


class VisualMotion:
    """Motion of the LiDAR between two frames from their camera images and
    the earlier frame's scan (see the module).

    Args:
        max_corners (int): Corners detected in the earlier image
            (Shi-Tomasi). Defaults to 800.
        quality_level (float): Their minimal quality, relative to the best
            corner's. Defaults to 0.01.
        min_distance (float): Least distance (px) between corners.
            Defaults to 8.
        window (int): Side (px) of the Lucas-Kanade window. Defaults to 21.
        levels (int): Pyramid levels above the image. Defaults to 3.
        max_fb_error (float): Tracks whose backward track ends farther
            (px) from their start are dropped. Defaults to 0.5.
        depth_neighbors (int): Projected LiDAR points a corner's depth is
            interpolated from (a plane through them). Defaults to 5.
        max_pixel_distance (float): Farthest of them (px).
            Defaults to 6.0.
        max_plane_residual (float): Largest distance of one of them from
            their plane, relative to the depth. Defaults to 0.01.
        min_depth (float): Nearest usable depth (m). Defaults to 2.0.
        max_depth (float): Farthest usable depth (m). Defaults to 60.0.
        reprojection_error (float): RANSAC inlier threshold (px).
            Defaults to 1.0.
        min_inliers (int): Fewer inliers: not converged. Defaults to 40.
        ransac_iterations (int): Defaults to 200.
        max_prediction_error (float, optional): Tracks that end farther
            (px) from where the guessed motion puts a static point are
            dropped before the PnP (moving objects; the guess must then
            be good to that many pixels). Defaults to None (kept).
        sweep_time (float): LiDAR revolution (s), for the deskewing.
            Defaults to 0.1.
        hold_rotation (bool): Where :meth:`estimate` is given the pair's
            rotation (a gyro's, far better over 0.1 s than the camera's),
            hold it and solve the translation only, on the inliers of the
            PnP. Defaults to False.
        ground_warp (bool): Track the corners on the ground in the later
            image warped by the ground's homography under the guess (see
            the module). Defaults to False.
        ground_tolerance (float): A corner is on the ground where its
            plane's normal is within 15 deg of the LiDAR's up axis and the
            plane lies within this distance (m) of the median plane of
            such corners. Defaults to 0.3.
        passes (int): The estimate is made again from its own result this
            many times in all (the deskewing, the prediction of the tracks,
            their gate ``max_prediction_error`` and the ground's warp then
            start from a better guess; a pass that does not converge keeps
            the previous one's). Defaults to 1.
    """

    def __init__(self,
                 max_corners: int = 800,
                 quality_level: float = 0.01,
                 min_distance: float = 8.0,
                 window: int = 21,
                 levels: int = 3,
                 max_fb_error: float = 0.5,
                 depth_neighbors: int = 5,
                 max_pixel_distance: float = 6.0,
                 max_plane_residual: float = 0.01,
                 min_depth: float = 2.0,
                 max_depth: float = 60.0,
                 reprojection_error: float = 1.0,
                 min_inliers: int = 40,
                 ransac_iterations: int = 200,
                 max_prediction_error: Optional[float] = None,
                 sweep_time: float = SWEEP_TIME,
                 hold_rotation: bool = False,
                 ground_warp: bool = False,
                 ground_tolerance: float = 0.3,
                 passes: int = 1) -> None:
        if min(max_corners, window, min_inliers, ransac_iterations,
               passes) < 1 or levels < 0 or depth_neighbors < 3:
            raise ValueError('max_corners, window, min_inliers, '
                             'ransac_iterations and passes must be positive, '
                             'levels >= 0 '
                             'and depth_neighbors >= 3 (a plane)')
        if min_inliers < 6:
            raise ValueError(f'min_inliers must be >= 6 (a pose has 6 '
                             f'degrees of freedom), got {min_inliers}')
        if not 0 < min_depth < max_depth:
            raise ValueError(f'need 0 < min_depth < max_depth, got '
                             f'{min_depth}, {max_depth}')
        self.max_corners = int(max_corners)
        self.quality_level = float(quality_level)
        self.min_distance = float(min_distance)
        self.window = int(window)
        self.levels = int(levels)
        self.max_fb_error = float(max_fb_error)
        self.depth_neighbors = int(depth_neighbors)
        self.max_pixel_distance = float(max_pixel_distance)
        self.max_plane_residual = float(max_plane_residual)
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.reprojection_error = float(reprojection_error)
        self.min_inliers = int(min_inliers)
        self.ransac_iterations = int(ransac_iterations)
        self.max_prediction_error = (None if max_prediction_error is None else
                                     float(max_prediction_error))
        self.sweep_time = float(sweep_time)
        self.hold_rotation = bool(hold_rotation)
        self.ground_warp = bool(ground_warp)
        self.ground_tolerance = float(ground_tolerance)
        self.passes = int(passes)

    def settings(self) -> dict:
        """Everything the estimate depends on, OpenCV's version included
        (JSON-serialisable; part of the key of cached priors)."""
        keys = ('max_corners', 'quality_level', 'min_distance', 'window',
                'levels', 'max_fb_error', 'depth_neighbors',
                'max_pixel_distance', 'max_plane_residual', 'min_depth',
                'max_depth', 'reprojection_error', 'min_inliers',
                'ransac_iterations', 'max_prediction_error', 'sweep_time',
                'hold_rotation', 'ground_warp', 'ground_tolerance', 'passes')
        return dict(
            method='lk-pnp-lidar-depth',
            opencv_version=cv2.__version__,
            **{k: getattr(self, k)
               for k in keys})

    def corners(self, image: np.ndarray) -> np.ndarray:
        """Shi-Tomasi corners (M, 2) of a grey image (x right, y down)."""
        corners = cv2.goodFeaturesToTrack(image, self.max_corners,
                                          self.quality_level,
                                          self.min_distance)
        return np.zeros((0, 2)) if corners is None else corners.reshape(
            -1, 2).astype(np.float64)

    def track(self,
              gray_t: np.ndarray,
              gray_k: np.ndarray,
              start: np.ndarray,
              predicted: Optional[np.ndarray] = None,
              levels: Optional[int] = None) -> np.ndarray:
        """Where the pixels ``start`` (M, 2) of ``gray_t`` are in
        ``gray_k`` (M, 2), tracked from ``predicted`` (M, 2; defaults to
        ``start``) over ``levels`` pyramid levels (defaults to the
        setting's); NaN where the track failed or its backward track ends
        farther than ``max_fb_error`` from its start."""
        out = np.full_like(start, np.nan)
        if not len(start):
            return out
        lk = dict(
            winSize=(self.window, self.window),
            maxLevel=self.levels if levels is None else levels,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30,
                      0.01),
            flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
        p0 = start.astype(np.float32).reshape(-1, 1, 2)
        p1 = (start if predicted is None else predicted).astype(
            np.float32).reshape(-1, 1, 2).copy()
        ahead, ok, _ = cv2.calcOpticalFlowPyrLK(gray_t, gray_k, p0, p1, **lk)
        back, ok_back, _ = cv2.calcOpticalFlowPyrLK(gray_k, gray_t, ahead,
                                                    p0.copy(), **lk)
        fb = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
        keep = (ok.ravel() == 1) & (ok_back.ravel() == 1) & (
            fb < self.max_fb_error)
        out[keep] = ahead.reshape(-1, 2)[keep]
        return out

    def depths(self, pixels: np.ndarray, points: np.ndarray, K: np.ndarray,
               T_cam_velo: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
        """Depth (m) of ``pixels`` (M, 2) from LiDAR ``points`` (N, 3+) in
        the frame of the image (see the module); NaN where there is none.
        """
        return self.planes(pixels, points, K, T_cam_velo, shape)[0]

    def planes(self, pixels: np.ndarray, points: np.ndarray, K: np.ndarray,
               T_cam_velo: np.ndarray,
               shape: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
        """Depth (M,) of ``pixels`` (M, 2) as :meth:`depths`, and the unit
        normal (M, 3) of the plane of their LiDAR neighbours in the camera
        frame (NaN where there is no depth)."""
        xyz = points[:, :3] @ T_cam_velo[:3, :3].T + T_cam_velo[:3, 3]
        xyz = xyz[(xyz[:, 2] > self.min_depth) & (xyz[:, 2] < self.max_depth)]
        uv = xyz @ K.T
        uv = uv[:, :2] / uv[:, 2:]
        inside = ((uv[:, 0] >= -1) & (uv[:, 0] < shape[1] + 1)
                  & (uv[:, 1] >= -1) & (uv[:, 1] < shape[0] + 1))
        out = np.full(len(pixels), np.nan)
        normals = np.full((len(pixels), 3), np.nan)
        if inside.sum() < self.depth_neighbors or not len(pixels):
            return out, normals
        xyz = xyz[inside]
        dist, idx = cKDTree(uv[inside]).query(pixels, k=self.depth_neighbors)
        near = dist[:, -1] <= self.max_pixel_distance
        if not near.any():
            return out, normals
        nb = xyz[idx[near]]  # (M', k, 3)
        centre = nb.mean(1)
        # the normal of the neighbours' plane: their least principal axis
        normal = np.linalg.svd(nb - centre[:, None])[2][:, -1]
        rays = np.c_[pixels[near], np.ones(near.sum())] @ np.linalg.inv(K).T
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        along = (normal * rays).sum(1)
        residual = np.abs(((nb - centre[:, None]) * normal[:, None]).sum(-1))
        with np.errstate(divide='ignore', invalid='ignore'):
            s = (normal * centre).sum(1) / along
        z = s * rays[:, 2]
        good = ((np.abs(along) > 0.05) &
                (residual.max(1) <= self.max_plane_residual * z)
                & (z > self.min_depth) & (z < self.max_depth))
        out[np.flatnonzero(near)[good]] = z[good]
        normals[np.flatnonzero(near)[good]] = normal[good]
        return out, normals

    def estimate(self,
                 image_t: np.ndarray,
                 image_k: np.ndarray,
                 points_t: np.ndarray,
                 K: np.ndarray,
                 T_cam_velo: np.ndarray,
                 guess: Optional[np.ndarray] = None,
                 dt: Optional[float] = None,
                 rotation: Optional[np.ndarray] = None
                 ) -> Tuple[np.ndarray, Dict]:
        """Motion ``T_L`` (4, 4) of the LiDAR, ``scan_t ~= T_L @ scan_k``
        (the convention of :class:`~.registration.ScanRegistration`).

        Args:
            image_t (np.ndarray): Earlier image (H, W[, 3]), uint8.
            image_k (np.ndarray): Later image, same size.
            points_t (np.ndarray): Earlier scan (N, 3+), LiDAR frame.
            K (np.ndarray): Camera intrinsics (3, 3).
            T_cam_velo (np.ndarray): LiDAR to camera frame (4, 4), see
                :func:`camera_from_velo`.
            guess (np.ndarray, optional): A guess of ``T_L`` (4, 4), e.g.
                the registration's or its prediction: the start of the
                solver and the motion the scan is deskewed with.
                Defaults to the identity.
            dt (float, optional): Time (s) between the frames; with it
                ``points_t`` is deskewed with ``guess`` (swept scans).
            rotation (np.ndarray, optional): The rotation (3, 3) of
                ``T_L`` measured otherwise (the gyro's); with
                ``hold_rotation`` it is the estimate's, and only the
                translation is solved. Defaults to None.

        Returns:
            tuple[np.ndarray, dict]: ``T_L`` (the guess where not
            converged) and ``info``: ``converged``, ``num_tracked``,
            ``num_with_depth``, ``num_inliers``, ``rms`` (inlier
            reprojection error, px) and, with ``ground_warp``,
            ``num_ground`` (corners tracked on the ground).
        """
        if image_t.shape != image_k.shape:
            raise ValueError(f'the images differ in size: {image_t.shape} '
                             f'and {image_k.shape}')
        guess = np.eye(4) if guess is None else np.asarray(
            guess, dtype=np.float64)
        points = np.asarray(points_t, dtype=np.float64)
        T_L, info = self._estimate(image_t, image_k, points, K, T_cam_velo,
                                   guess, dt, rotation)
        for _ in range(self.passes - 1):
            if not info['converged']:
                break
            again = self._estimate(image_t, image_k, points, K, T_cam_velo,
                                   T_L, dt, rotation)
            if not again[1]['converged']:
                break
            T_L, info = again
        return T_L, info

    def _estimate(self, image_t: np.ndarray, image_k: np.ndarray,
                  points: np.ndarray, K: np.ndarray, T_cam_velo: np.ndarray,
                  guess: np.ndarray, dt: Optional[float],
                  rotation: Optional[np.ndarray]) -> Tuple[np.ndarray, Dict]:
        """One pass of :meth:`estimate` from ``guess`` (4, 4)."""
        if dt is not None and dt > 0:
            points = deskew_points(points, guess, dt, self.sweep_time)
        info = dict(
            converged=False,
            num_tracked=0,
            num_with_depth=0,
            num_inliers=0,
            rms=float('nan'))
        # solvePnP's pose maps camera-t points into camera-k coordinates
        T_cam = T_cam_velo @ guess @ se3_inverse(T_cam_velo)
        init = se3_inverse(T_cam)
        obj, end = self._tracks(image_t, image_k, points, K, T_cam_velo, init,
                                info)
        if len(obj) < self.min_inliers:
            return guess, info
        solved = self._solve(obj, end, K, init, info)
        if solved is None:
            return guess, info
        pose, inliers = solved
        if self.hold_rotation and rotation is not None:
            # solvePnP's rotation is that of T_cam's inverse
            R_cam = T_cam_velo[:3, :3] @ np.asarray(rotation) @ \
                T_cam_velo[:3, :3].T
            pose = self._solve_translation(obj[inliers], end[inliers], K,
                                           R_cam.T, info)
            if pose is None:
                return guess, info
        T_cam = se3_inverse(pose)
        return se3_inverse(T_cam_velo) @ T_cam @ T_cam_velo, info

    def _tracks(self, image_t: np.ndarray, image_k: np.ndarray,
                points: np.ndarray, K: np.ndarray, T_cam_velo: np.ndarray,
                init: np.ndarray, info: dict) -> Tuple[np.ndarray, np.ndarray]:
        """The corners of ``image_t`` with a depth, as points (M, 3) of
        camera t, and where they are tracked to in ``image_k`` (M, 2), each
        from where the guessed pose ``init`` (camera t into camera k, 4, 4)
        puts it; ``info`` gets their numbers."""
        gray = [
            cv2.cvtColor(im, cv2.COLOR_BGR2GRAY) if im.ndim == 3 else im
            for im in (image_t, image_k)
        ]
        start = self.corners(gray[0])
        z, normals = self.planes(start, points, K, T_cam_velo,
                                 image_t.shape[:2])
        has = np.isfinite(z)
        info['num_with_depth'] = int(has.sum())
        start, normals = start[has], normals[has]
        obj = np.c_[start, np.ones(len(start))] @ np.linalg.inv(K).T * z[has,
                                                                         None]
        ahead = obj @ init[:3, :3].T + init[:3, 3]
        predicted = ahead @ K.T
        predicted = predicted[:, :2] / np.maximum(predicted[:, 2:], 1e-6)
        end = self.track(gray[0], gray[1], start, predicted)
        if self.ground_warp:
            ground = self._ground(obj, normals, T_cam_velo[:3, 2])
            info['num_ground'] = 0 if ground is None else int(ground[0].sum())
            if ground is not None:
                end[ground[0]] = self._track_warped(gray, start[ground[0]], K,
                                                    init, *ground[1:])
        tracked = np.isfinite(end).all(1) & (ahead[:, 2] > self.min_depth)
        if self.max_prediction_error is not None:
            # a moving car's corners leave the static prediction
            with np.errstate(invalid='ignore'):
                tracked &= np.linalg.norm(
                    end - predicted, axis=1) <= self.max_prediction_error
        info['num_tracked'] = int(tracked.sum())
        return obj[tracked], end[tracked]

    def _ground(self, obj: np.ndarray, normals: np.ndarray, up: np.ndarray
                ) -> Optional[Tuple[np.ndarray, np.ndarray, float]]:
        """The corners on the ground: a mask (M,) of the points ``obj``
        (M, 3, camera t) whose planes (unit ``normals`` (M, 3)) are
        horizontal (within 15 deg of the LiDAR's ``up`` axis (3,), camera
        frame) and within ``ground_tolerance`` of the median such plane,
        and that plane's normal (3,) and offset ``d`` (``n . X = d``); None
        where fewer than ``min_inliers`` corners are on it or the plane
        passes within 0.5 m of the camera."""
        n = normals * np.sign(normals @ up)[:, None]  # pointing up
        flat = np.flatnonzero((n @ up) > np.cos(np.deg2rad(15.0)))
        if len(flat) < self.min_inliers:
            return None
        normal = np.median(n[flat], axis=0)
        normal /= np.linalg.norm(normal)
        offsets = obj[flat] @ normal
        d = float(np.median(offsets))
        if abs(d) < 0.5:  # a plane through the camera is no ground
            return None
        mask = np.zeros(len(obj), dtype=bool)
        mask[flat[np.abs(offsets - d) <= self.ground_tolerance]] = True
        if mask.sum() < self.min_inliers:
            return None
        return mask, normal, d

    def _track_warped(self, gray: Sequence[np.ndarray], start: np.ndarray,
                      K: np.ndarray, init: np.ndarray, normal: np.ndarray,
                      d: float) -> np.ndarray:
        """Tracks (M, 2; NaN where lost) in the later image ``gray[1]`` of
        ground corners ``start`` (M, 2) of ``gray[0]``, followed in the
        later image warped by the homography ``H = K (R + t n^T / d)
        K^-1`` of the ground plane ``n . X = d`` (camera t) under the
        guess ``init`` (camera t into camera k): a ground point stays
        where it was in the warped image, with its texture unstretched, so
        one pyramid level above the image is enough (the coarse levels of
        the warped image, whose border and sky are blank, pulled tracks
        away)."""
        H = K @ (init[:3, :3] + np.outer(init[:3, 3], normal) / d) @ \
            np.linalg.inv(K)
        h, w = gray[1].shape[:2]
        warped = cv2.warpPerspective(
            gray[1],
            H, (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE)
        end = self.track(gray[0], warped, start, levels=min(self.levels, 1))
        mapped = np.c_[end, np.ones(len(end))] @ H.T
        with np.errstate(invalid='ignore', divide='ignore'):
            return mapped[:, :2] / mapped[:, 2:]

    def _solve(self, obj: np.ndarray, img: np.ndarray, K: np.ndarray,
               init: np.ndarray,
               info: dict) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """PnP of points ``obj`` (M, 3) of camera t seen at ``img`` (M, 2)
        in image k, from ``init`` (4, 4): the pose (4, 4) mapping camera-t
        into camera-k coordinates and the indices of its inliers, or None;
        ``info`` gets their number and error."""
        rvec, _ = cv2.Rodrigues(init[:3, :3])
        tvec = init[:3, 3].reshape(3, 1).copy()
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            obj,
            img,
            K,
            None,
            rvec,
            tvec,
            useExtrinsicGuess=True,
            iterationsCount=self.ransac_iterations,
            reprojectionError=self.reprojection_error,
            confidence=0.999,
            flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or inliers is None or len(inliers) < self.min_inliers:
            info['num_inliers'] = 0 if inliers is None else len(inliers)
            return None
        inliers = inliers.ravel()
        rvec, tvec = cv2.solvePnPRefineLM(obj[inliers], img[inliers], K, None,
                                          rvec, tvec)
        proj, _ = cv2.projectPoints(obj[inliers], rvec, tvec, K, None)
        info.update(
            converged=True,
            num_inliers=int(len(inliers)),
            rms=float(
                np.sqrt(
                    ((proj.reshape(-1, 2) - img[inliers])**2).sum(1).mean())))
        R, _ = cv2.Rodrigues(rvec)
        return make_pose(R, tvec.ravel()), inliers

    def _solve_translation(self, obj: np.ndarray, img: np.ndarray,
                           K: np.ndarray, R: np.ndarray,
                           info: dict) -> Optional[np.ndarray]:
        """The translation (of the pose mapping camera-t into camera-k
        coordinates) that, with the rotation ``R`` (3, 3) held, best
        reprojects the PnP's inliers ``obj`` (M, 3) onto ``img`` (M, 2):
        the pose (4, 4), or None if fewer than ``min_inliers`` points
        reproject within ``reprojection_error``; ``info`` gets their number
        and error.

        Linear in the translation: a point ``X`` seen at normalised
        ``(a, b)`` gives ``t_x - a t_z = a (R X)_z - (R X)_x`` and the
        same in y, each divided by the point's depth in camera k (an error
        in the normalised image plane); solved on every point, then twice
        more on those the previous solution reprojects within the
        threshold, with their new depths.
        """
        norm = np.c_[img, np.ones(len(img))] @ np.linalg.inv(K).T
        a, b = norm[:, 0], norm[:, 1]
        RX = obj @ R.T
        one, zero = np.ones(len(obj)), np.zeros(len(obj))
        A = np.concatenate([np.c_[one, zero, -a], np.c_[zero, one, -b]])
        y = np.concatenate([a * RX[:, 2] - RX[:, 0], b * RX[:, 2] - RX[:, 1]])
        focal = 0.5 * (K[0, 0] + K[1, 1])
        weight = 1.0 / np.maximum(obj[:, 2], 1e-6)
        for _ in range(3):
            w = np.tile(weight, 2)
            t = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)[0]
            cam = RX + t
            with np.errstate(divide='ignore', invalid='ignore'):
                err = np.linalg.norm(
                    cam[:, :2] / cam[:, 2:] - norm[:, :2], axis=1) * focal
            keep = (cam[:, 2] > self.min_depth) & (
                err <= self.reprojection_error)
            weight = np.where(keep, 1.0 / np.maximum(cam[:, 2], 1e-6), 0.0)
        info.update(
            num_inliers=int(keep.sum()),
            rms=float(np.sqrt(
                (err[keep]**2).mean())) if keep.any() else float('nan'))
        if keep.sum() < self.min_inliers:
            info['converged'] = False
            return None
        return make_pose(R, t)
