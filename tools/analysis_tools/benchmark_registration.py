"""Speed and consistency of LiDAR scan registration on consecutive scans.

Example (full KITTI HDL-64 scans, one core)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark_registration.py \\
        ../shared/fixtures/kitti/real_scans [--candidates] [--repeats 5]

reads the ``*.bin`` scans of the folder (KITTI Velodyne format, float32
x, y, z, reflectance; consecutive frames, sorted by name) and registers
them with the project's :class:`ScanRegistration` (its defaults, or the
settings of ``--reg-cfg key=value ...``). ``--candidates`` adds the other
configurations and libraries compared when the method was chosen:
small_gicp's GICP / point-to-plane ICP / VGICP at other resolutions, and,
where they are installed, KISS-ICP 1.3 (``pip install kiss-icp==1.3.0``;
its registration of a pair against a voxel map of the other scan, and its
odometry pipeline, frame by frame) and Open3D (point-to-plane ICP, GICP).

For each method it prints, as a markdown table:

- ``pair (ms)``: one pair, both scans prepared (cropped, downsampled,
  covariances / normals / search structures) and registered; median and
  range over the consecutive pairs and ``--repeats`` rounds, wall clock;
  ``cpu`` the same in process CPU time (steadier on a shared machine),
- ``sequence (ms)``: per pair when the scans come one after the other and
  each is prepared once, the source of one pair and the target of the next
  (what the registration-prior cache does),
- consistency: for every ``j >= 2``, the consecutive registrations
  ``0 -> 1 -> ... -> j`` composed against ``0 -> j`` registered directly,
  translation (cm) and rotation (deg) of the difference,
- ``guesses off captured`` (this project's :class:`ScanRegistration`
  only): the last scan registered onto the first from initial guesses 3 m
  and 5 m back, 3 m back and 10 deg of yaw, and 20 deg of yaw; how many
  of them end within 2 cm / 0.05 deg of the registration from the
  identity (its capture range).

Every library runs on one thread (``OMP_NUM_THREADS=1`` is set before the
imports unless given; the methods are called with one thread);
``--pin-cpu N`` also pins the process to core ``N``.
"""
import argparse
import glob
import os
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    load_velodyne  # noqa: E402
from projects.trimodal_odom.trimodal_odom.utils.registration import \
    ScanRegistration  # noqa: E402
from projects.trimodal_odom.trimodal_odom.utils.se3 import (  # noqa: E402
    rotation_angle, se3_inverse)

# initial guesses of the capture-range test: (metres back, degrees of yaw)
GUESS_OFFSETS = ((3.0, 0.0), (5.0, 0.0), (3.0, 10.0), (0.0, 20.0))


class Method:
    """A registration method: ``prepare(points)`` once per scan, then
    ``align(source, target) -> T`` (4, 4) with ``target ~= T @ source``.
    Odometry pipelines (``new_pipeline() -> step``) only take the next scan
    of a sequence: ``step(points) -> T`` of that scan into the previous one.
    ``cv_init`` not None: ``align`` takes an initial guess; True: in a
    sequence, the previous motion (constant velocity)."""

    def __init__(self,
                 name: str,
                 prepare: Optional[Callable] = None,
                 align: Optional[Callable] = None,
                 new_pipeline: Optional[Callable] = None,
                 cv_init: Optional[bool] = None) -> None:
        self.name = name
        self.prepare = prepare
        self.align = align
        self.new_pipeline = new_pipeline
        self.cv_init = cv_init


def project_method(name: str, cv_init: bool = False, **cfg) -> Method:
    """:class:`ScanRegistration`; ``cv_init``: in a sequence, from the
    previous pair's motion (constant velocity) instead of the identity."""
    reg = ScanRegistration(**cfg)
    return Method(
        name,
        reg.prepare,
        lambda s, t, init=None: reg.align(s, t, init)[0],
        cv_init=cv_init)


def small_gicp_method(name: str, registration_type: str, downsample: float,
                      max_correspondence: float) -> Method:
    import small_gicp
    crop = ScanRegistration(max_points=None)._crop

    def prepare(points):
        return small_gicp.preprocess_points(
            crop(points, 'scan'), downsample, num_neighbors=10, num_threads=1)

    def align(source, target):
        return small_gicp.align(
            target[0],
            source[0],
            target[1],
            registration_type=registration_type,
            max_correspondence_distance=max_correspondence,
            num_threads=1).T_target_source

    return Method(name, prepare, align)


def kiss_icp_methods() -> List[Method]:
    """KISS-ICP 1.3: its point-to-point registration of a scan against a
    voxel hash map of the other (its own preprocessing: two voxel
    downsamplings), and its odometry pipeline (no deskewing)."""
    try:
        from kiss_icp.config.parser import KISSConfig
        from kiss_icp.kiss_icp import KissICP
        from kiss_icp.mapping import VoxelHashMap
        from kiss_icp.registration import Registration
        from kiss_icp.voxelization import voxel_down_sample
    except ImportError as e:
        print(f'KISS-ICP not measured ({e})', file=sys.stderr)
        return []
    methods = []
    for voxel in (1.0, 0.5):

        def prepare(points, voxel=voxel):
            xyz = points[:, :3].astype(np.float64)
            frame = voxel_down_sample(xyz, voxel * 0.5)
            voxel_map = VoxelHashMap(voxel, 100.0, 20)
            voxel_map.add_points(frame)
            return voxel_down_sample(frame, voxel * 1.5), voxel_map

        def align(source, target):
            # KISS-ICP's threshold before it adapts: 3 sigma, sigma = 2/3 m
            return Registration(500, 1e-4,
                                1).align_points_to_map(source[0], target[1],
                                                       np.eye(4), 2.0, 2.0 / 3)

        def new_pipeline(voxel=voxel):
            cfg = KISSConfig()
            cfg.data.deskew = False
            cfg.data.max_range = 100.0
            cfg.mapping.voxel_size = voxel
            cfg.registration.max_num_threads = 1
            odometry = KissICP(cfg)

            def step(points):
                last = odometry.last_pose
                xyz = points[:, :3].astype(np.float64)
                odometry.register_frame(xyz, np.zeros(len(xyz)))
                return se3_inverse(last) @ odometry.last_pose

            return step

        methods += [
            Method(f'KISS-ICP 1.3 registration, voxel {voxel} m', prepare,
                   align),
            Method(
                f'KISS-ICP 1.3 odometry pipeline, voxel {voxel} m',
                new_pipeline=new_pipeline)
        ]
    return methods


def open3d_methods() -> List[Method]:
    try:
        import open3d as o3d
    except ImportError as e:
        print(f'Open3D not measured ({e})', file=sys.stderr)
        return []
    reg = o3d.pipelines.registration
    crop = ScanRegistration(max_points=None)._crop
    methods = []
    for kind, downsample, gate in (('point-to-plane', 0.5, 0.5), ('GICP', 0.5,
                                                                  0.5)):

        def prepare(points, kind=kind, downsample=downsample):
            cloud = o3d.geometry.PointCloud(
                o3d.utility.Vector3dVector(crop(points, 'scan')))
            cloud = cloud.voxel_down_sample(downsample)
            knn = o3d.geometry.KDTreeSearchParamKNN(10)
            if kind == 'GICP':
                cloud.estimate_covariances(knn)
            else:
                cloud.estimate_normals(knn)
            return cloud

        def align(source, target, kind=kind, gate=gate):
            crit = reg.ICPConvergenceCriteria(max_iteration=30)
            if kind == 'GICP':
                return reg.registration_generalized_icp(
                    source, target, gate, np.eye(4),
                    reg.TransformationEstimationForGeneralizedICP(),
                    crit).transformation
            return reg.registration_icp(
                source, target, gate, np.eye(4),
                reg.TransformationEstimationPointToPlane(),
                crit).transformation

        methods.append(
            Method(
                f'Open3D {o3d.__version__} {kind}, voxel {downsample} m, '
                f'gate {gate} m', prepare, align))
    return methods


def candidate_methods() -> List[Method]:
    every = dict(max_points=None)  # no thinning before the voxel grid
    methods = [
        project_method(
            'the same, in a sequence from the previous motion (constant '
            'velocity)',
            cv_init=True),
        project_method(
            'small_gicp VGICP, every point, voxel 0.5 m, maps 3.0 / 0.8 m',
            downsample=0.5,
            **every),
        project_method(
            'small_gicp VGICP, at most 50,000 points, voxel 0.5 m, maps '
            '3.0 / 0.8 m',
            downsample=0.5),
        project_method(
            'small_gicp VGICP, at most 40,000 points, voxel 0.6 m, maps '
            '3.0 / 0.8 m',
            max_points=40000),
        project_method(
            'small_gicp VGICP, every point, voxel 0.6 m, maps 3.0 / 0.8 m',
            **every),
        project_method(
            'small_gicp VGICP, every point, voxel 0.4 m, maps 3.0 / 0.8 m',
            downsample=0.4,
            **every),
        project_method(
            'small_gicp VGICP, every point, voxel 0.25 m, map 0.5 m, one '
            'level',
            downsample=0.25,
            voxel_sizes=(0.5, ),
            max_correspondence=(1.0, ),
            max_iterations=(20, ),
            **every),
        project_method(
            'small_gicp VGICP, every point, voxel 0.5 m, map 1.0 m, one '
            'level',
            downsample=0.5,
            voxel_sizes=(1.0, ),
            max_correspondence=(1.0, ),
            max_iterations=(20, ),
            **every),
        project_method(
            'small_gicp VGICP, every point, voxel 0.5 m, map 0.8 m, one '
            'level',
            downsample=0.5,
            voxel_sizes=(0.8, ),
            max_correspondence=(0.5, ),
            max_iterations=(20, ),
            **every),
    ]
    for typ, ds, gate in (('GICP', 1.0, 1.0), ('GICP', 0.5, 1.0),
                          ('GICP', 0.25, 1.0), ('GICP', 0.5,
                                                0.5), ('PLANE_ICP', 0.5, 1.0)):
        methods.append(
            small_gicp_method(f'small_gicp {typ}, voxel {ds} m, gate {gate} m',
                              typ, ds, gate))
    return methods + kiss_icp_methods() + open3d_methods()


def _ms(values: List[float]) -> str:
    if not values:
        return '-'
    return (f'{1000 * statistics.median(values):.1f} '
            f'({1000 * min(values):.0f}-{1000 * max(values):.0f})')


def _timed(fn: Callable, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - c0


def _errors(T_a: np.ndarray, T_b: np.ndarray):
    """Translation (cm) and rotation (deg) of ``inv(T_a) @ T_b``."""
    err = se3_inverse(T_a) @ T_b
    return (100 * float(np.linalg.norm(err[:3, 3])),
            float(np.degrees(rotation_angle(err[:3, :3]))))


def measure(method: Method, scans: List[np.ndarray], repeats: int) -> Dict:
    """Times and consistency of one method (see the module docstring)."""
    n = len(scans)
    pair, pair_cpu, seq, seq_cpu = [], [], [], []
    steps: Dict[int, np.ndarray] = {}
    direct: Dict[int, np.ndarray] = {}
    for _ in range(repeats):
        if method.prepare is not None:
            for i in range(1, n):
                src, w1, c1 = _timed(method.prepare, scans[i])
                tgt, w2, c2 = _timed(method.prepare, scans[i - 1])
                steps[i], w3, c3 = _timed(method.align, src, tgt)
                pair.append(w1 + w2 + w3)
                pair_cpu.append(c1 + c2 + c3)
            prev, init = method.prepare(scans[0]), None
            for i in range(1, n):
                cur, w1, c1 = _timed(method.prepare, scans[i])
                args = (init, ) if method.cv_init else ()
                init, w2, c2 = _timed(method.align, cur, prev, *args)
                seq.append(w1 + w2)
                seq_cpu.append(c1 + c2)
                prev = cur
        else:
            step = method.new_pipeline()
            step(scans[0])
            for i in range(1, n):
                steps[i], w, c = _timed(step, scans[i])
                seq.append(w)
                seq_cpu.append(c)
    if method.prepare is not None:
        first = method.prepare(scans[0])
        for j in range(2, n):
            direct[j] = method.align(method.prepare(scans[j]), first)
    # capture range: the last scan onto the first from guesses that are
    # off (x metres back, yaw degrees); back to the result from identity?
    captured = None
    if method.cv_init is not None:
        last, captured = method.prepare(scans[-1]), 0
        for dx, yaw in GUESS_OFFSETS:
            c, s = np.cos(np.radians(yaw)), np.sin(np.radians(yaw))
            guess = np.array([[c, -s, 0, -dx], [s, c, 0, 0], [0, 0, 1, 0],
                              [0, 0, 0, 1.0]])
            t_err, r_err = _errors(
                method.align(last, first, guess), direct[n - 1])
            captured += int(t_err < 2.0 and r_err < 0.05)
    consistency = []
    composed = steps[1]
    for j in range(2, n):
        composed = composed @ steps[j]
        if j in direct:
            consistency.append(_errors(composed, direct[j]))
    return dict(
        pair=pair,
        pair_cpu=pair_cpu,
        seq=seq,
        seq_cpu=seq_cpu,
        consistency=consistency,
        captured=captured,
        motion=[float(np.linalg.norm(steps[i][:3, 3])) for i in steps])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time LiDAR registration on consecutive scans')
    parser.add_argument(
        'scan_dir', help='folder of consecutive KITTI scans (*.bin)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='rounds over the scans (default: 5)')
    parser.add_argument(
        '--candidates',
        action='store_true',
        help='also measure the other configurations and libraries')
    parser.add_argument(
        '--reg-cfg',
        nargs='+',
        action=DictAction,
        default={},
        help='ScanRegistration settings, e.g. downsample=0.4 '
        'voxel_sizes=3.0,0.8')
    parser.add_argument(
        '--pin-cpu', type=int, help='run on this CPU core only')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.pin_cpu is not None:
        os.sched_setaffinity(0, {args.pin_cpu})
    paths = sorted(glob.glob(osp.join(args.scan_dir, '*.bin')))
    if len(paths) < 3:
        print(
            f'error: {args.scan_dir}: {len(paths)} scans (*.bin), need at '
            'least 3 consecutive ones',
            file=sys.stderr)
        return 1
    scans = [load_velodyne(p) for p in paths]
    cfg = args.reg_cfg
    chosen = ScanRegistration(**cfg)
    print(f'chosen: {chosen!r}')
    methods = [
        project_method(
            'ScanRegistration' + (f' with {cfg}' if cfg else
                                  ' (defaults: small_gicp VGICP, at most '
                                  '50,000 points, voxel 0.6 m, maps 3.0 / '
                                  '0.8 m)'), **cfg)
    ]
    if args.candidates:
        methods += candidate_methods()
    print(f'{len(scans)} scans of {args.scan_dir} '
          f'({", ".join(str(len(s)) for s in scans)} points), '
          f'{args.repeats} rounds, OMP_NUM_THREADS='
          f'{os.environ.get("OMP_NUM_THREADS")}, '
          f'{len(os.sched_getaffinity(0))} usable cores')
    header = ('| method | pair (ms) | pair cpu (ms) | sequence (ms) | '
              'sequence cpu (ms) | ' +
              ' | '.join(f'0-..-{j} vs 0-{j} (cm / deg)'
                         for j in range(2, len(scans))) +
              f' | guesses off captured (of {len(GUESS_OFFSETS)}) '
              '| motion a frame (m) |')
    print(header)
    print('|' + '---|' * (header.count('|') - 1))
    for method in methods:
        r = measure(method, scans, args.repeats)
        cons = ' | '.join(f'{t:.2f} / {a:.3f}' for t, a in r['consistency'])
        if not r['consistency']:
            cons = ' | '.join('-' for _ in range(2, len(scans)))
        motion = ', '.join(f'{m:.3f}' for m in r['motion'])
        captured = '-' if r['captured'] is None else r['captured']
        print(
            f'| {method.name} | {_ms(r["pair"])} | {_ms(r["pair_cpu"])} '
            f'| {_ms(r["seq"])} | {_ms(r["seq_cpu"])} | {cons} '
            f'| {captured} | {motion} |',
            flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
