"""Bad-data corpus: broken copies of the tiny samples and of a clean
checkpoint, one fault each (or several, for the cases that check that all
problems of a run are reported together).

Every case copies the clean tiny sample of its project (FRED or KITTI
odometry) or the clean checkpoints (see ``conftest.py``), plants its fault
and runs one entry point on it. ``error``: the entry point fails with the project's error type
(:class:`FREDDataError` / :class:`KittiFormatError`, or a non-zero exit
status without a traceback for the command-line tools) and the message
names the file, and the line where there is one. ``skip``: the entry
point completes, skips the bad item and the named counter of its report
rises above that of the clean sample; the report names the file.

Entry points (``fred-`` / ``kitti-`` prefix): ``converter`` (library
function, in-process), ``converter-skip`` (FRED converter with
``skip_bad``; it still fails on what no option skips, such as a split
left without boxes), ``converter-cli`` / ``integrity-cli`` (the tool run
in a subprocess), ``integrity`` (FRED: the tool's ``main`` in-process; KITTI:
``check_kitti_integrity(deep=True)``), ``dataset`` (the dataset built from
a config dict, every sample loaded through its pipeline) and ``loader``
(the loading transforms applied to every entry of the converted
annotations, without the dataset's file checks). ``ckpt-`` entry points
run the tools on a checkpoint: ``test-cli`` (``tools/test.py CFG CKPT``),
``resume-cli`` (``tools/train.py CFG --resume CKPT``) and
``load-from-cli`` (``--cfg-options load_from=CKPT``); they must fail with
the one line ``error: CKPT: problem`` and nothing else, i.e. before
anything is built. A fault's ``options`` are added to the entry point's
arguments (dataset config keys, KITTI integrity keyword arguments, tool
arguments).

case                     | fault                        | entry point     | expected
------------------------ | ---------------------------- | --------------- | ------------------------------
fred_truncated_jpg       | RGB jpg cut in half          | converter       | error: file is truncated
fred_truncated_jpg_skip  | RGB jpg cut in half          | converter-skip  | skip: unreadable_frame
fred_truncated_png       | event png cut in half        | integrity       | error: file is truncated
fred_empty_jpg           | RGB jpg of 0 bytes           | converter       | error: file is empty
fred_empty_png           | event png of 0 bytes         | converter-skip  | skip: unreadable_frame
fred_event_size          | event png at half size       | converter       | error: size_mismatch (both files)
fred_event_size_loader   | event png at half size       | loader          | error: size_mismatch (both files)
fred_no_event_folder     | Event/ removed               | converter-skip  | skip: missing_event_folder
fred_no_event_folder_ds  | Event/ removed after convert | dataset         | error: frame does not exist
fred_missing_rgb_ds      | RGB jpg removed after conv.  | dataset         | error: frame does not exist
fred_ann_few_fields      | line 3 with 3 fields         | converter       | error: file:3 expected "time: ..."
fred_ann_text_number     | line 3 with text for y1      | converter-skip  | skip: malformed_line (file:3)
fred_ann_negative_time   | line 3 with time -1          | converter       | error: file:3 time >= 0
fred_ann_inverted_box    | line 3 with x2 < x1          | converter       | error: file:3 inverted box
fred_ann_negative_box    | line 3 box at x, y < 0       | converter-skip  | skip: box_outside_frame (file:3)
fred_ann_outside_box     | line 3 box right of frame    | integrity       | error: file:3 outside the frame
fred_ann_unknown_class   | line 3 class 'DJI Phantom 9' | converter       | error: file:3 unknown class
fred_missing_annotation  | coordinates.txt removed      | converter-cli   | error: exit 1, file does not exist
fred_dup_event_time      | event png copied as 0<us>    | converter       | error: duplicate time stamp
fred_dup_rgb_time        | RGB jpg copied as <S.frac>0  | converter-skip  | skip: duplicate_timestamp
fred_corrupt_jpg_decode  | RGB jpg garbage after SOF    | dataset         | error: cannot decode
fred_corrupt_png_decode  | event png IDAT data garbled  | loader          | error: cannot decode
fred_split_missing_seq   | split lists sequence 7       | converter-skip  | skip: missing_sequence
fred_split_bad_line      | split line 2 'a/b/'          | converter       | error: file:2 expected an id
fred_split_empty         | train split file emptied     | converter-cli   | error: exit 1, lists no sequence
fred_missing_root        | data root removed            | converter-cli   | error: exit 1, root does not exist
fred_missing_root_check  | data root removed            | integrity       | error: root does not exist
fred_two_splits          | bad jpg (train), line (test) | converter-cli   | error: exit 1, both named, counted
fred_two_sequences_check | bad jpg and png, 2 sequences | integrity       | error: both named, counted
fred_ann_missing_class   | line 3 without its class     | converter-cli   | error: exit 1, use --classes drone
fred_ann_refused_frame   | line 3 with text for y1      | converter-skip  | skip: its frame dropped
fred_ann_no_class_at_all | no line of train has a class | converter-skip  | error: split would hold no box
fred_zeroed_jpg          | RGB jpg scan data zeroed     | converter       | error: libjpeg: corrupt data
fred_zeroed_jpg_check    | RGB jpg scan data zeroed     | integrity       | error: libjpeg: corrupt data
fred_zeroed_jpg_ds       | RGB jpg scan data zeroed     | dataset         | error: libjpeg: corrupt data
fred_zeroed_jpg_loader   | RGB jpg scan data zeroed     | loader          | error: libjpeg: corrupt data
fred_garbled_jpg         | 64 random bytes in RGB scan  | converter-skip  | skip: unreadable_frame
fred_garbled_jpg_loader  | 64 random bytes in RGB scan  | loader          | error: libjpeg: corrupt data
fred_cut_jpg_eoi         | RGB jpg cut, end marker kept | converter       | error: libjpeg: corrupt data
fred_cut_jpg_eoi_ds      | RGB jpg cut, end marker kept | dataset         | error: libjpeg: corrupt data
fred_corrupt_jpg_conv    | RGB jpg garbage after SOF    | converter       | error: libjpeg: corrupt data
fred_corrupt_png_check   | event png IDAT data garbled  | integrity       | error: CRC error in IDAT
fred_zeroed_png          | event png IDAT data zeroed   | converter       | error: CRC error in IDAT
fred_zeroed_png_loader   | event png IDAT data zeroed   | loader          | error: CRC error in IDAT
fred_truncated_event_ds  | event png cut in half        | dataset         | error: file is truncated
kitti_bin_size           | .bin + 6 bytes               | integrity       | error: not a multiple of 16
kitti_bin_empty          | .bin of 0 bytes              | integrity       | error: file is empty
kitti_bin_empty_ds       | .bin of 0 bytes              | dataset         | error: file is empty
kitti_bin_empty_loader   | .bin of 0 bytes              | loader          | error: file is empty
kitti_points_nan         | NaN in one point             | integrity       | error: points with NaN or inf
kitti_points_inf         | inf in one point             | loader          | error: points with NaN or inf
kitti_missing_velodyne   | .bin removed                 | integrity       | error: file missing
kitti_missing_velo_ds    | .bin removed after convert   | dataset         | error: point cloud missing
kitti_missing_image_ds   | .png removed after convert   | dataset         | error: image missing
kitti_corrupt_png_decode | png IDAT data garbled        | dataset         | error: cannot decode image
kitti_truncated_png      | png cut in half              | dataset         | error: cannot decode image
kitti_empty_png          | png of 0 bytes               | loader          | error: cannot decode image
kitti_zeroed_png         | png IDAT data zeroed         | integrity       | error: CRC error in IDAT
kitti_zeroed_png_conv    | png IDAT data zeroed         | converter       | error: CRC error in IDAT
kitti_zeroed_png_loader  | png IDAT data zeroed         | loader          | error: CRC error in IDAT
kitti_cut_png_check      | png cut in half              | integrity       | error: file is truncated
kitti_corrupt_png_check  | png IDAT data garbled        | integrity       | error: CRC error in IDAT
kitti_text_png           | text in a .png file          | converter-cli   | error: exit 1, not an image
kitti_fewer_poses        | last pose line removed       | converter       | error: N-1 poses but N frames
kitti_pose_nan           | NaN in pose line 4           | integrity       | error: file:4 NaN or inf
kitti_times_decreasing   | times.txt line 5 goes back   | integrity       | error: file:5 does not increase
kitti_times_duplicated   | times.txt line 7 = line 6    | converter       | error: file:7 does not increase
kitti_times_text         | times.txt line 3 'abc'       | integrity       | error: file:3 not a number
kitti_missing_calib      | calib.txt removed            | converter-cli   | error: exit 1, file not found
kitti_oxts_short_line    | sync packet with 25 values   | integrity-cli   | error: exit 1, file:1 got 25
kitti_oxts_nan           | NaN ax in an extract packet  | converter       | error: file:1 NaN or inf in 'ax'
kitti_oxts_inf           | inf wz in a sync packet      | integrity       | error: file:1 NaN or inf in 'wz'
kitti_oxts_gap           | extract packet file removed  | integrity       | error: file missing (contiguous)
kitti_oxts_stamp_count   | sync timestamps line removed | integrity       | error: N-1 timestamps, N packets
kitti_oxts_time_back     | extract stamp 21 = stamp 19  | integrity       | skip: extract packets dropped
kitti_no_sync_oxts       | raw sync oxts/ removed       | integrity       | skip: without raw IMU data
kitti_no_extract_oxts    | raw extract oxts/ removed    | converter       | error: folder not found
kitti_unknown_sequence   | config sequences='00,05'     | dataset         | error: sequence 05 not found
kitti_pose_and_bin       | pose NaN, .bin + 6 bytes     | integrity       | error: both named
kitti_pose_and_bin_conv  | pose NaN, .bin + 6 bytes     | converter       | error: both named
kitti_times_and_png      | times 'abc', png zeroed      | integrity       | error: both named
kitti_calib_and_oxts     | calib.txt gone, OXTS NaN     | integrity       | error: both named
kitti_sync_and_extract   | inf sync, NaN extract OXTS   | integrity       | error: both named
kitti_stamps_and_packet  | bad stamp, short packet      | converter       | error: both named
kitti_two_times_lines    | times lines 3 and 8 bad      | converter       | error: both lines named
kitti_rigid_and_sync     | no R in IMU calib, OXTS inf  | integrity       | error: both named
kitti_many_missing       | 4 png and 8 .bin removed     | integrity-cli   | error: 12 counted, 5 listed
kitti_two_sequences      | times 00, empty .bin in 01   | integrity       | error: both sequences named
kitti_ds_two_sequences   | info 00 gone, sequence 05    | dataset         | error: both named
kitti_missing_root       | root removed                 | integrity-cli   | error: exit 1, root not found
kitti_missing_root_conv  | root removed                 | converter-cli   | error: exit 1, root not found
kitti_missing_raw_root   | --raw-root does not exist    | converter-cli   | error: exit 1, raw root not found
kitti_no_poses           | poses/ removed, none named   | integrity       | error: no sequence to convert
kitti_missing_data_root  | dataset data_root missing    | dataset         | error: data root not found
kitti_no_sequences_dir   | sequences/ removed           | integrity       | error: sequence 00 not found
ckpt_missing             | checkpoint removed           | test-cli        | error: exit 1, does not exist
ckpt_empty               | checkpoint of 0 bytes        | test-cli        | error: exit 1, file is empty
ckpt_garbage             | 4 KiB of random bytes        | test-cli        | error: exit 1, not a checkpoint
ckpt_truncated           | checkpoint cut in half       | test-cli        | error: exit 1, truncated zip
ckpt_zeroed              | tensor record bytes zeroed   | test-cli        | error: exit 1, CRC-32 mismatch
ckpt_no_data_pkl         | zip without data.pkl         | test-cli        | error: exit 1, not a torch ckpt
ckpt_legacy_truncated    | legacy pickle cut in half    | test-cli        | error: exit 1, cannot unpickle
ckpt_folder              | folder named epoch_1.pth     | test-cli        | error: exit 1, is a folder
ckpt_not_a_dict          | torch.save of a list         | test-cli        | error: exit 1, holds a list
ckpt_resume_truncated    | checkpoint cut in half       | resume-cli      | error: exit 1, truncated zip
ckpt_resume_weights      | weights-only file            | resume-cli      | error: exit 1, not for training
ckpt_resume_missing      | checkpoint removed           | resume-cli      | error: exit 1, does not exist
ckpt_load_from_garbage   | 4 KiB of random bytes        | load-from-cli   | error: exit 1, not a checkpoint
ckpt_load_from_zeroed    | tensor record bytes zeroed   | load-from-cli   | error: exit 1, CRC-32 mismatch
"""  # noqa: E501
import contextlib
import importlib.util
import io
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from typing import Callable, Dict, NamedTuple, Optional

import cv2
import mmengine
import numpy as np
import pytest
import torch
from mmdet3d.registry import DATASETS as DET3D_DATASETS
from mmdet.registry import DATASETS as DET_DATASETS
from mmengine.registry import DefaultScope

from projects.fred_fusion.fred_fusion.converters import (convert_split,
                                                         read_split_file)
from projects.fred_fusion.fred_fusion.datasets import (FREDDataError,
                                                       LoadFREDImages)
from projects.trimodal_odom.trimodal_odom.converters import (
    check_kitti_integrity, create_kitti_odom_infos)
from projects.trimodal_odom.trimodal_odom.datasets import (LoadOdomImages,
                                                           LoadOdomPoints)
from projects.trimodal_odom.trimodal_odom.utils.kitti_io import \
    KittiFormatError

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
FRED_ANN = osp.join('annotations', 'fred_fusion_train.json')
KITTI_INFO = osp.join('infos', 'kitti_odom_infos_00.pkl')
TOY_CONFIG = osp.join(REPO, 'tests', 'test_mmfusion',
                      'toy_classifier_config.py')
SEQ = osp.join('sequences', '00')
SYNC = osp.join('raw', '2011_10_03', '2011_10_03_drive_0027_sync', 'oxts')
EXTRACT = SYNC.replace('_sync', '_extract')

# ---------------------------------------------------------------------------
# Damage functions
# ---------------------------------------------------------------------------


def _read(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


def _write(path: str, data: bytes) -> None:
    with open(path, 'wb') as f:
        f.write(data)


def _truncate(path: str) -> None:
    _write(path, _read(path)[:osp.getsize(path) // 2])


def _empty(path: str) -> None:
    _write(path, b'')


def _garbage(n: int) -> bytes:
    """``n`` deterministic random bytes without 0xFF (no JPEG marker)."""
    return np.random.RandomState(0).randint(0, 255,
                                            n).astype(np.uint8).tobytes()


def _garbage_after_header(path: str) -> None:
    """Fill the compressed pixel data with garbage, keeping the header
    (with the size) and the end marker: the file passes the header probe
    and fails at decode time."""
    data = bytearray(_read(path))
    if path.endswith('.png'):
        i = 8  # keep every chunk's length and type, garble IDAT payloads
        while i < len(data):
            length = int.from_bytes(data[i:i + 4], 'big')
            if data[i + 4:i + 8] == b'IDAT':
                data[i + 8:i + 8 + length] = _garbage(length)
            i += 12 + length
    else:
        i = 2  # walk the JPEG segments up to the start-of-frame header
        while data[i + 1] not in (0xC0, 0xC1, 0xC2):
            i += 2 + int.from_bytes(data[i + 2:i + 4], 'big')
        i += 2 + int.from_bytes(data[i + 2:i + 4], 'big')
        data[i:-2] = _garbage(len(data) - i - 2)
    _write(path, bytes(data))


def _lines(path: str) -> list:
    with open(path) as f:
        return f.read().splitlines()


def _write_lines(path: str, lines: list) -> None:
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def _replace_line(path: str, lineno: int, text: str) -> None:
    lines = _lines(path)
    lines[lineno - 1] = text
    _write_lines(path, lines)


def _set_value(path: str, index: int, value: str) -> None:
    """Set value ``index`` of a one-line OXTS packet file."""
    values = _read(path).decode().split()
    values[index] = value
    _write_lines(path, [' '.join(values)])


# ---------------------------------------------------------------------------
# FRED faults: each damages the copy at ``root`` and returns the names the
# expected message refers to (``path``: the file that must be named).
# ---------------------------------------------------------------------------


def _frames(root: str, seq: str, stream: str) -> list:
    folder = osp.join(root, seq, *stream.split('/'))
    return [osp.join(folder, name) for name in sorted(os.listdir(folder))]


def _rgb(root: str, i: int = 3) -> str:
    return _frames(root, '0', 'RGB')[i]


def _event(root: str, i: int = 3) -> str:
    return _frames(root, '0', 'Event/Frames')[i]


def _coords(root: str) -> str:
    return osp.join(root, '0', 'coordinates.txt')


def _paired_entry(root: str, k: int = 2) -> dict:
    """The ``k``-th paired entry of the clean conversion of the copy."""
    with open(osp.join(root, FRED_ANN)) as f:
        entries = json.load(f)['data_list']
    return [e for e in entries if e['paired']][k]


def fred_truncated_jpg(root):
    _truncate(_rgb(root))
    return dict(path=_rgb(root))


def fred_truncated_png(root):
    _truncate(_event(root))
    return dict(path=_event(root))


def fred_empty_jpg(root):
    _empty(_rgb(root))
    return dict(path=_rgb(root))


def fred_empty_png(root):
    _empty(_event(root))
    return dict(path=_event(root))


def fred_event_size(root):
    """Re-encode the event frame of a paired entry at half size; the first
    RGB frame paired with it is the one reported."""
    entry = _paired_entry(root)
    with open(osp.join(root, FRED_ANN)) as f:
        first = next(
            e for e in json.load(f)['data_list']
            if e['event_path'] == entry['event_path'])
    event = osp.join(root, entry['event_path'])
    img = cv2.imread(event)
    h, w = img.shape[:2]
    cv2.imwrite(event, cv2.resize(img, (w // 2, h // 2)))
    return dict(
        path=osp.join(root, first['img_path']),
        event=entry['event_path'],
        event_abs=event,
        size=f'{w}x{h}',
        half=f'{w // 2}x{h // 2}',
        shape=f'({h}, {w}, 3)',
        half_shape=f'({h // 2}, {w // 2}, 3)')


def fred_no_event_folder(root):
    shutil.rmtree(osp.join(root, '0', 'Event'))
    return dict(path=osp.join(root, '0', 'Event', 'Frames'))


def fred_missing_rgb(root):
    path = osp.join(root, _paired_entry(root)['img_path'])
    os.remove(path)
    return dict(path=path)


def _ann_line(text: str) -> Callable[[str], dict]:

    def fault(root):
        _replace_line(_coords(root), 3, text)
        return dict(path=_coords(root))

    return fault


fred_ann_few_fields = _ann_line('0.033333: 122.0, 52.0, 132.0')
fred_ann_text_number = _ann_line(
    '0.033333: 122.0, abc, 132.0, 61.0, 1, DJI Tello EDU')
fred_ann_negative_time = _ann_line(
    '-1.0: 122.0, 52.0, 132.0, 61.0, 1, DJI Tello EDU')
fred_ann_inverted_box = _ann_line(
    '0.033333: 132.0, 52.0, 122.0, 61.0, 1, DJI Tello EDU')
fred_ann_negative_box = _ann_line(
    '0.033333: -60.0, -50.0, -20.0, -10.0, 1, DJI Tello EDU')
fred_ann_outside_box = _ann_line(
    '0.033333: 5000.0, 52.0, 5010.0, 61.0, 1, DJI Tello EDU')
fred_ann_unknown_class = _ann_line(
    '0.033333: 122.0, 52.0, 132.0, 61.0, 1, DJI Phantom 9')


def fred_missing_annotation(root):
    os.remove(_coords(root))
    return dict(path=_coords(root))


def fred_dup_event_time(root):
    """A zero-padded copy has the same time stamp and sorts first."""
    path = _event(root)
    folder, name = osp.split(path)
    seq, us = name[:-len('.png')].rsplit('_', 1)
    shutil.copy(path, osp.join(folder, f'{seq}_0{us}.png'))
    return dict(path=path, dup=f'{seq}_0{us}.png')


def fred_dup_rgb_time(root):
    """``<S.frac>0`` is the same time; the copy sorts after the original."""
    dup = _rgb(root).replace('.jpg', '0.jpg')
    shutil.copy(_rgb(root), dup)
    return dict(path=dup)


def fred_corrupt_jpg_decode(root):
    path = osp.join(root, _paired_entry(root)['img_path'])
    _garbage_after_header(path)
    return dict(path=path)


def fred_corrupt_png_decode(root):
    path = osp.join(root, _paired_entry(root)['event_path'])
    _garbage_after_header(path)
    return dict(path=path)


def fred_split_missing_seq(root):
    path = osp.join(root, 'dataset_splits', 'train_split.txt')
    _write_lines(path, _lines(path) + ['7/'])
    return dict(path=osp.join(root, '7'))


def fred_split_bad_line(root):
    path = osp.join(root, 'dataset_splits', 'train_split.txt')
    _write_lines(path, _lines(path)[:1] + ['a/b/'] + _lines(path)[1:])
    return dict(path=path)


def _split_file(root: str, split: str = 'train') -> str:
    return osp.join(root, 'dataset_splits', f'{split}_split.txt')


def fred_split_empty(root):
    _write(_split_file(root), b'')
    return dict(path=_split_file(root))


def fred_missing_root(root):
    shutil.rmtree(root)
    return dict(path=root)


def fred_two_splits(root):
    """A truncated RGB frame in a train sequence and a malformed line in
    a test sequence: both are reported by one run."""
    _truncate(_rgb(root))
    test_seq = _lines(_split_file(root, 'test'))[0].rstrip('/')
    coords = osp.join(root, test_seq, 'coordinates.txt')
    _replace_line(coords, 3, '0.033333: 122.0, 52.0, 132.0')
    return dict(path=_rgb(root), other=coords)


def fred_two_sequences(root):
    """Broken frames in two train sequences, both reported."""
    _truncate(_rgb(root))
    second = _lines(_split_file(root))[1].rstrip('/')
    event = _frames(root, second, 'Event/Frames')[2]
    _empty(event)
    return dict(path=_rgb(root), other=event)


fred_ann_missing_class = _ann_line('0.033333: 122.0, 52.0, 132.0, 61.0, 1')
fred_ann_refused_frame = _ann_line(
    '0.033333: 122.0, abc, 132.0, 61.0, 1, DJI Tello EDU')


def fred_ann_no_class_at_all(root):
    """Every line of every train sequence without its class (an older
    release read in five-class mode)."""
    for seq in _fred_seq_ids(root):
        coords = osp.join(root, seq, 'coordinates.txt')
        _write_lines(coords,
                     [line.rsplit(',', 1)[0] for line in _lines(coords)])
    return dict(path=_split_file(root), coords=_coords(root))


# Damage inside the compressed data: the header, the size and the end
# marker stay valid, so only decoding shows it (OpenCV decodes such JPEGs
# with a warning on stderr).


def _jpeg_scan(data: bytes) -> tuple:
    """``(start, end)`` of the entropy-coded data of a JPEG."""
    sos = data.index(b'\xff\xda')
    return sos + 2 + int.from_bytes(data[sos + 2:sos + 4],
                                    'big'), len(data) - 2


def _first_idat(data: bytes) -> tuple:
    """``(start, end)`` of the payload of a PNG's first IDAT chunk."""
    pos = data.index(b'IDAT') - 4
    return pos + 8, pos + 8 + int.from_bytes(data[pos:pos + 4], 'big')


def _zero_inside(path: str) -> None:
    """Zero the middle third of the compressed data (a JPEG's scan, a
    PNG's first IDAT payload)."""
    data = bytearray(_read(path))
    start, end = (_first_idat if path.endswith('.png') else _jpeg_scan)(data)
    third = (end - start) // 3
    data[start + third:end - third] = bytes(end - start - 2 * third)
    _write(path, bytes(data))


def _garble_inside(path: str) -> None:
    """Overwrite 64 bytes in the middle of a JPEG's scan data."""
    data = bytearray(_read(path))
    start, end = _jpeg_scan(data)
    middle = (start + end) // 2
    data[middle:middle + 64] = _garbage(64)
    _write(path, bytes(data))


def _cut_keep_end_marker(path: str) -> None:
    """Cut a JPEG in half and append its end-of-image marker, as a copy
    tool that pads a short read might."""
    _write(path, _read(path)[:osp.getsize(path) // 2] + b'\xff\xd9')


def _damage(damage: Callable[[str], None],
            frame: Callable[[str], str]) -> Callable[[str], dict]:

    def fault(root):
        damage(frame(root))
        return dict(path=frame(root))

    return fault


def _paired_rgb(root: str) -> str:
    return osp.join(root, _paired_entry(root)['img_path'])


def _paired_event(root: str) -> str:
    return osp.join(root, _paired_entry(root)['event_path'])


fred_zeroed_jpg = _damage(_zero_inside, _paired_rgb)
fred_garbled_jpg = _damage(_garble_inside, _paired_rgb)
fred_cut_jpg_eoi = _damage(_cut_keep_end_marker, _paired_rgb)
fred_zeroed_png = _damage(_zero_inside, _paired_event)
fred_truncated_event = _damage(_truncate, _paired_event)

# ---------------------------------------------------------------------------
# KITTI faults
# ---------------------------------------------------------------------------


def _velo(root: str, i: int) -> str:
    return osp.join(root, SEQ, 'velodyne', f'{i:06d}.bin')


def _image(root: str, i: int) -> str:
    return osp.join(root, SEQ, 'image_2', f'{i:06d}.png')


def _packet(root: str, oxts: str, i: int) -> str:
    return osp.join(root, oxts, 'data', f'{i:010d}.txt')


def kitti_bin_size(root):
    with open(_velo(root, 3), 'ab') as f:
        f.write(b'\0' * 6)
    return dict(path=_velo(root, 3))


def kitti_bin_empty(root):
    _empty(_velo(root, 4))
    return dict(path=_velo(root, 4))


def _bad_point(i: int, value: float) -> Callable[[str], dict]:

    def fault(root):
        points = np.fromfile(_velo(root, i), dtype=np.float32).reshape(-1, 4)
        points[5, i % 3] = value
        points.tofile(_velo(root, i))
        return dict(path=_velo(root, i))

    return fault


kitti_points_nan = _bad_point(5, np.nan)
kitti_points_inf = _bad_point(6, np.inf)


def kitti_missing_velodyne(root):
    os.remove(_velo(root, 8))
    return dict(path=_velo(root, 8))


def kitti_missing_image(root):
    os.remove(_image(root, 10))
    return dict(path=_image(root, 10))


def kitti_corrupt_png_decode(root):
    _garbage_after_header(_image(root, 2))
    return dict(path=_image(root, 2))


def kitti_truncated_png(root):
    _truncate(_image(root, 5))
    return dict(path=_image(root, 5))


def kitti_empty_png(root):
    _empty(_image(root, 7))
    return dict(path=_image(root, 7))


def kitti_fewer_poses(root):
    path = osp.join(root, 'poses', '00.txt')
    lines = _lines(path)
    _write_lines(path, lines[:-1])
    return dict(
        path=path,
        times=osp.join(root, SEQ, 'times.txt'),
        frames=str(len(lines)),
        poses=str(len(lines) - 1))


def kitti_pose_nan(root):
    path = osp.join(root, 'poses', '00.txt')
    values = _lines(path)[3].split()
    values[7] = 'nan'
    _replace_line(path, 4, ' '.join(values))
    return dict(path=path)


def _times_line(lineno: int, text: Optional[str]) -> Callable[[str], dict]:
    """Replace line ``lineno`` of times.txt (by the previous one if None)."""

    def fault(root):
        path = osp.join(root, SEQ, 'times.txt')
        _replace_line(path, lineno,
                      _lines(path)[lineno - 2] if text is None else text)
        return dict(path=path)

    return fault


kitti_times_decreasing = _times_line(5, '1.000000e-01')
kitti_times_duplicated = _times_line(7, None)
kitti_times_text = _times_line(3, 'abc')


def kitti_missing_calib(root):
    path = osp.join(root, SEQ, 'calib.txt')
    os.remove(path)
    return dict(path=path)


def kitti_oxts_short_line(root):
    path = _packet(root, SYNC, 2)
    _write_lines(path, [' '.join(_read(path).decode().split()[:25])])
    return dict(path=path)


def kitti_oxts_nan(root):
    _set_value(_packet(root, EXTRACT, 20), 11, 'nan')  # ax
    return dict(path=_packet(root, EXTRACT, 20))


def kitti_oxts_inf(root):
    _set_value(_packet(root, SYNC, 5), 19, 'inf')  # wz
    return dict(path=_packet(root, SYNC, 5))


def kitti_oxts_gap(root):
    os.remove(_packet(root, EXTRACT, 50))
    return dict(path=_packet(root, EXTRACT, 50))


def kitti_oxts_stamp_count(root):
    path = osp.join(root, SYNC, 'timestamps.txt')
    lines = _lines(path)
    _write_lines(path, lines[:-1])
    return dict(path=path, stamps=str(len(lines) - 1), packets=str(len(lines)))


def kitti_oxts_time_back(root):
    path = osp.join(root, EXTRACT, 'timestamps.txt')
    _replace_line(path, 21, _lines(path)[18])
    return dict(path=path)


def kitti_no_sync_oxts(root):
    shutil.rmtree(osp.join(root, SYNC))
    return dict(path=osp.join(root, SYNC))


def kitti_no_extract_oxts(root):
    shutil.rmtree(osp.join(root, EXTRACT))
    return dict(path=osp.join(root, EXTRACT))


def kitti_unknown_sequence(root):
    """No file is damaged: the dataset config names sequence 05."""
    return dict(
        path=osp.join(root, 'sequences', '05'),
        options=dict(sequences='00,05'))


kitti_zeroed_png = _damage(_zero_inside, lambda root: _image(root, 3))


def kitti_text_png(root):
    _write(_image(root, 9), b'P6 not really an image\n')
    return dict(path=_image(root, 9))


# Several problems in one run: all of them are reported together.


def _faults(*faults: Callable[[str], dict]) -> Callable[[str], dict]:
    """Plant several faults; the names of the first as they are, those of
    the n-th (n > 1) with the suffix ``n`` (``path2``, ...)."""

    def fault(root):
        names = {}
        for i, plant in enumerate(faults, 1):
            suffix = '' if i == 1 else str(i)
            names.update({k + suffix: v for k, v in plant(root).items()})
        return names

    return fault


def kitti_oxts_stamp_text(root):
    path = osp.join(root, EXTRACT, 'timestamps.txt')
    _replace_line(path, 4, 'yesterday')
    return dict(path=path)


def kitti_no_rotation(root):
    path = osp.join(root, 'raw', '2011_10_03', 'calib_imu_to_velo.txt')
    _write_lines(path, [s for s in _lines(path) if not s.startswith('R:')])
    return dict(path=path)


kitti_pose_and_bin = _faults(kitti_pose_nan, kitti_bin_size)
kitti_times_and_png = _faults(kitti_times_text, kitti_zeroed_png)
kitti_calib_and_oxts = _faults(kitti_missing_calib, kitti_oxts_nan)
kitti_sync_and_extract = _faults(kitti_oxts_inf, kitti_oxts_nan)
kitti_stamps_and_packet = _faults(kitti_oxts_stamp_text, kitti_oxts_short_line)
kitti_two_times_lines = _faults(kitti_times_text, _times_line(8, 'x8'))
kitti_rigid_and_sync = _faults(kitti_no_rotation, kitti_oxts_inf)


def kitti_many_missing(root):
    """12 files removed: the tool lists 5 of them after the counts."""
    for i in range(4):
        os.remove(_image(root, i))
    for i in range(8):
        os.remove(_velo(root, i))
    return dict(path=_image(root, 0), options=['--max-listed', '5'])


def kitti_two_sequences(root):
    """Sequence 01 is a copy of 00; a fault in each."""
    shutil.copytree(osp.join(root, SEQ), osp.join(root, 'sequences', '01'))
    shutil.copy(
        osp.join(root, 'poses', '00.txt'), osp.join(root, 'poses', '01.txt'))
    bad = osp.join(root, 'sequences', '01', 'velodyne', '000002.bin')
    _empty(bad)
    return dict(
        kitti_times_text(root), bin=bad, options=dict(sequences='00,01'))


def kitti_dataset_two_sequences(root):
    """Sequence 00's info file removed, and the config names 05 too."""
    info = osp.join(root, KITTI_INFO)
    os.remove(info)
    return dict(
        path=info,
        missing=osp.join(root, 'sequences', '05'),
        options=dict(sequences='00,05'))


# Missing roots and nothing to convert.


def kitti_missing_root(root):
    shutil.rmtree(root)
    return dict(path=root)


def kitti_missing_raw_root(root):
    path = osp.join(root, 'no_raw_here')
    return dict(path=path, options=['--raw-root', path])


def kitti_no_poses(root):
    """No pose file and no sequences named: nothing to convert."""
    shutil.rmtree(osp.join(root, 'poses'))
    return dict(
        path=osp.join(root, 'sequences'),
        poses=osp.join(root, 'poses', 'XX.txt'),
        options=dict(sequences=None))


def kitti_missing_data_root(root):
    path = osp.join(root, 'elsewhere')
    return dict(path=path, options=dict(data_root=path))


def kitti_no_sequences_folder(root):
    shutil.rmtree(osp.join(root, 'sequences'))
    return dict(path=osp.join(root, SEQ))


# ---------------------------------------------------------------------------
# Checkpoint faults: each damages a copy of the clean checkpoints (a
# training checkpoint of the toy classifier, ``epoch_1.pth``, and its
# weights alone, ``weights.pth``) and returns the file to be named.
# ---------------------------------------------------------------------------


def _ckpt(root: str) -> str:
    return osp.join(root, 'epoch_1.pth')


def _tensor_record(path: str) -> int:
    """Offset of the bytes of the largest tensor record (``<name>/data/N``),
    past its local header, whose name and extra field lengths are at bytes
    26-29."""
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if '/data/' in i.filename),
                   key=lambda i: i.file_size)
    head = _read(path)[info.header_offset:info.header_offset + 30]
    return (info.header_offset + 30 + int.from_bytes(head[26:28], 'little') +
            int.from_bytes(head[28:30], 'little'))


def ckpt_missing(root):
    os.remove(_ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_empty(root):
    _empty(_ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_garbage(root):
    _write(_ckpt(root), _garbage(4096))
    return dict(path=_ckpt(root))


def ckpt_truncated(root):
    _truncate(_ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_zeroed(root):
    """Zeroed bytes inside the largest tensor record; torch.load would
    return them as weights."""
    data = bytearray(_read(_ckpt(root)))
    start = _tensor_record(_ckpt(root))
    data[start + 8:start + 72] = bytes(64)
    _write(_ckpt(root), bytes(data))
    return dict(path=_ckpt(root))


def ckpt_no_data_pkl(root):
    with zipfile.ZipFile(_ckpt(root), 'w') as archive:
        archive.writestr('epoch_1/notes.txt', 'not a checkpoint')
    return dict(path=_ckpt(root))


def ckpt_legacy_truncated(root):
    checkpoint = torch.load(_ckpt(root), weights_only=False)
    torch.save(checkpoint, _ckpt(root), _use_new_zipfile_serialization=False)
    _truncate(_ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_folder(root):
    os.remove(_ckpt(root))
    os.mkdir(_ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_not_a_dict(root):
    torch.save([torch.ones(3)], _ckpt(root))
    return dict(path=_ckpt(root))


def ckpt_weights_only(root):
    """A weights file given to --resume."""
    return dict(path=osp.join(root, 'weights.pth'))


# ---------------------------------------------------------------------------
# Entry points: each runs on a (broken) root and returns an Outcome. Only
# the project's own error type is caught; any other exception escapes and
# fails the test with its traceback.
# ---------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What an entry point did: failed or not, its message or report, and
    the counters of its report."""

    failed: bool
    text: str
    counts: Counter


def _fred_seq_ids(root: str) -> list:
    return read_split_file(_split_file(root))


def run_fred_converter(root, work, options):
    out_file = osp.join(work, 'ann', 'fred_fusion_train.json')
    try:
        stats = convert_split(root, 'train', _fred_seq_ids(root), out_file)
    except FREDDataError as e:
        assert not osp.exists(out_file), 'written despite the error'
        return Outcome(True, str(e), Counter())
    return Outcome(False, '\n'.join(stats['problems']),
                   Counter(stats['skipped']))


def run_fred_converter_skip(root, work, options):
    try:
        stats = convert_split(
            root,
            'train',
            _fred_seq_ids(root),
            None,
            skip_bad=True,
            split_file=_split_file(root))
    except FREDDataError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(False, '\n'.join(stats['problems']),
                   Counter(stats['skipped']))


_TOOLS: Dict[str, object] = {}


def _tool_main(relpath: str):
    """``main`` of a command-line tool, imported from its file."""
    if relpath not in _TOOLS:
        path = osp.join(REPO, relpath)
        spec = importlib.util.spec_from_file_location(
            osp.splitext(osp.basename(path))[0], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[relpath] = module.main
    return _TOOLS[relpath]


def run_fred_integrity(root, work, options):
    main = _tool_main(osp.join('tools', 'misc', 'check_fred_integrity.py'))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main([root, '--split', 'train', '--workers', '1'])
    return Outcome(rc != 0, out.getvalue(), Counter())


def run_fred_dataset(root, work, options):
    cfg = dict(
        type='FREDDataset',
        data_root=root,
        ann_file=FRED_ANN,
        data_prefix=dict(img=''),
        modality='dual',
        test_mode=True,
        pipeline=[dict(type='LoadFREDImages')])
    cfg.update(options)
    try:
        with DefaultScope.overwrite_default_scope('mmdet'):
            dataset = DET_DATASETS.build(cfg)
            for i in range(len(dataset)):
                dataset[i]
    except FREDDataError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(False, '', Counter())


def run_fred_loader(root, work, options):
    with open(osp.join(root, FRED_ANN)) as f:
        entries = json.load(f)['data_list']
    load = LoadFREDImages(modality='dual')
    try:
        for entry in entries:
            load(
                dict(
                    img_path=osp.join(root, entry['img_path']),
                    event_path=osp.join(root, entry['event_path'])))
    except FREDDataError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(False, '', Counter())


def run_kitti_converter(root, work, options):
    out_dir = osp.join(work, 'infos')
    try:
        create_kitti_odom_infos(root, sequences='00', out_dir=out_dir)
    except KittiFormatError as e:
        assert not osp.exists(out_dir), 'written despite the error'
        return Outcome(True, str(e), Counter())
    return Outcome(False, '', Counter())


def run_kitti_integrity(root, work, options):
    options = dict(dict(sequences='00'), **options)
    try:
        report, _ = check_kitti_integrity(root, deep=True, **options)
    except KittiFormatError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(not report.ok, report.format(), Counter(report.counts))


def run_kitti_dataset(root, work, options):
    cfg = dict(
        type='KittiOdometryDataset',
        data_root=root,
        sequences='00',
        pipeline=[dict(type='LoadOdomImages'),
                  dict(type='LoadOdomPoints')])
    cfg.update(options)
    try:
        with DefaultScope.overwrite_default_scope('mmdet3d'):
            dataset = DET3D_DATASETS.build(cfg)
            for i in range(len(dataset)):
                dataset[i]
    except KittiFormatError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(False, '', Counter(dataset.report.counts))


def run_kitti_loader(root, work, options):
    frames = mmengine.load(osp.join(root, KITTI_INFO))['data_list']
    load_images, load_points = LoadOdomImages(), LoadOdomPoints()
    try:
        for a, b in zip(frames[:-1], frames[1:]):
            load_images(
                dict(img_paths=[osp.join(root, f['img_path'])
                                for f in (a, b)]))
            load_points(
                dict(lidar_paths=[
                    osp.join(root, f['lidar_path']) for f in (a, b)
                ]))
    except KittiFormatError as e:
        return Outcome(True, str(e), Counter())
    return Outcome(False, '', Counter())


ENTRY_POINTS: Dict[str, Callable[[str, str, dict], Outcome]] = {
    'fred-converter': run_fred_converter,
    'fred-converter-skip': run_fred_converter_skip,
    'fred-integrity': run_fred_integrity,
    'fred-dataset': run_fred_dataset,
    'fred-loader': run_fred_loader,
    'kitti-converter': run_kitti_converter,
    'kitti-integrity': run_kitti_integrity,
    'kitti-dataset': run_kitti_dataset,
    'kitti-loader': run_kitti_loader,
}

#: Command-line tools run in a subprocess: the arguments after the
#: interpreter, from the broken copy, a work folder and the fault's names
#: (their ``options`` are added to the arguments).
CLI_TOOLS: Dict[str, Callable[[str, str, dict], list]] = {
    'fred-converter-cli':
    lambda root, work, names: [
        osp.join('tools', 'dataset_converters', 'fred_converter.py'), root,
        '--out-dir',
        osp.join(work, 'ann'), '--workers', '1'
    ],
    'kitti-converter-cli':
    lambda root, work, names: [
        osp.join('tools', 'dataset_converters', 'kitti_odom_converter.py'),
        root, '--sequences', '00', '--out-dir',
        osp.join(work, 'infos'), *names.get('options', [])
    ],
    'kitti-integrity-cli':
    lambda root, work, names: [
        osp.join('tools', 'misc', 'check_kitti_integrity.py'), root,
        '--sequences', '00', '--deep', *names.get('options', [])
    ],
    'ckpt-test-cli':
    lambda root, work, names: [
        osp.join('tools', 'test.py'), TOY_CONFIG, names['path'], '--work-dir',
        work
    ],
    'ckpt-resume-cli':
    lambda root, work, names: [
        osp.join('tools', 'train.py'), TOY_CONFIG, '--work-dir', work,
        '--resume', names['path']
    ],
    'ckpt-load-from-cli':
    lambda root, work, names: [
        osp.join('tools', 'train.py'), TOY_CONFIG, '--work-dir', work,
        '--cfg-options', f'load_from={names["path"]}'
    ],
}

# ---------------------------------------------------------------------------
# The table of cases
# ---------------------------------------------------------------------------


class Case(NamedTuple):
    """One fault, one entry point, one expected outcome.

    Args:
        id (str): Case name (test id).
        fault (callable): Damages the copy at ``root``; returns the names
            (``path`` and others) that ``match`` refers to as ``{name}``.
        entry (str): Key of :data:`ENTRY_POINTS`.
        expect (str): ``'error'`` or ``'skip'``.
        match (str): Regex the message (error) or the report (skip) must
            match; ``{name}`` stands for the escaped value of ``name``.
        counter (str, optional): Report counter that must rise (skip).
    """

    id: str
    fault: Callable[[str], dict]
    entry: str
    expect: str
    match: str
    counter: Optional[str] = None


def error(id, fault, entry, match):
    return Case(id, fault, f'{id.split("_")[0]}-{entry}', 'error', match)


def skip(id, fault, entry, counter, match):
    return Case(id, fault, f'{id.split("_")[0]}-{entry}', 'skip', match,
                counter)


# libjpeg's message depends on where the damage lies ("premature end of
# data segment", "N extraneous bytes before marker 0xd9", ...).
JPEG_DAMAGE = (r'{path}: cannot decode the image \(libjpeg: Corrupt JPEG '
               r'data: [^;()]+\) \[unreadable_frame\]')
JPEG_DAMAGE_LOADED = (r'{path}: cannot decode the image \(libjpeg: Corrupt '
                      r'JPEG data: [^;()]+; \d+ bytes\) \[unreadable_frame\]')
PNG_CRC = (r'{path}: cannot decode the image \(CRC error in the IDAT chunk '
           r'at byte 33\) \[unreadable_frame\]')
KITTI_PNG_CRC = (r'{path}: cannot decode image \(CRC error in the IDAT chunk '
                 r'at byte \d+\) \[unreadable_image\]')
CKPT_GARBAGE = (r'^error: {path}: not a checkpoint \(neither a torch zip '
                r'archive nor a pickle\)$')
CKPT_TRUNCATED = (r'^error: {path}: truncated or corrupt zip archive \(File '
                  r'is not a zip file; \d+ bytes\)$')
CKPT_ZEROED = (r'^error: {path}: corrupt: CRC-32 mismatch in record '
               r'epoch_1/data/\d+ \(damaged data\)$')

CASES = [
    # FRED: frames
    error(
        'fred_truncated_jpg', fred_truncated_jpg, 'converter',
        r'{path}: file is truncated \(no end marker\), \d+ bytes '
        r'\[unreadable_frame\]'),
    skip('fred_truncated_jpg_skip', fred_truncated_jpg, 'converter-skip',
         'unreadable_frame', r'{path}: file is truncated'),
    error('fred_truncated_png', fred_truncated_png, 'integrity',
          r'{path}: file is truncated \(no end marker\)'),
    error('fred_empty_jpg', fred_empty_jpg, 'converter',
          r'{path}: file is empty \[unreadable_frame\]'),
    skip('fred_empty_png', fred_empty_png, 'converter-skip',
         'unreadable_frame', r'{path}: file is empty'),
    error(
        'fred_event_size', fred_event_size, 'converter',
        r'{path}: RGB frame is {size} but its event frame {event} is '
        r'{half} \[size_mismatch\]'),
    error(
        'fred_event_size_loader', fred_event_size, 'loader',
        r'{path}: RGB frame has shape {shape} but event frame '
        r'{event_abs} has {half_shape} \[size_mismatch\]'),
    skip('fred_no_event_folder', fred_no_event_folder, 'converter-skip',
         'missing_event_folder', r'{path}: sequence has no event folder'),
    error(
        'fred_no_event_folder_ds', fred_no_event_folder, 'dataset',
        r'{path}/Video_0_\d+\.png: frame of entry \d+ in \S+ does not '
        r'exist \[missing_frame\]'),
    error('fred_missing_rgb_ds', fred_missing_rgb, 'dataset',
          r'{path}: frame of entry \d+ in \S+ does not exist'),
    # FRED: annotation lines
    error(
        'fred_ann_few_fields', fred_ann_few_fields, 'converter',
        r'{path}:3: expected "time: x1, y1, x2, y2\[, id\[, class\]\]", '
        r'got .* \[malformed_line\]'),
    skip('fred_ann_text_number', fred_ann_text_number, 'converter-skip',
         'malformed_line', r'{path}:3: time and coordinates must be finite'),
    error('fred_ann_negative_time', fred_ann_negative_time, 'converter',
          r'{path}:3: .*\(time >= 0\), got .-1\.0: .* \[malformed_line\]'),
    error(
        'fred_ann_inverted_box', fred_ann_inverted_box, 'converter',
        r'{path}:3: box must satisfy x1 <= x2 and y1 <= y2, got '
        r'.* \[inverted_box\]'),
    skip('fred_ann_negative_box', fred_ann_negative_box, 'converter-skip',
         'box_outside_frame',
         r'{path}:3: box \(-60\.0, -50\.0, -20\.0, -10\.0\) lies outside'),
    error(
        'fred_ann_outside_box', fred_ann_outside_box, 'integrity',
        r'{path}:3: box \(5000\.0, .*\) lies outside the \d+x\d+ frame '
        r'by more than 4\.0 px \[box_outside_frame\]'),
    error('fred_ann_unknown_class', fred_ann_unknown_class, 'converter',
          r"{path}:3: unknown class 'DJI Phantom 9'.* \[unknown_class\]"),
    error('fred_missing_annotation', fred_missing_annotation, 'converter-cli',
          r'{path}: annotation file does not exist '
          r'\[missing_annotation\]'),
    # FRED: time stamps and splits
    error(
        'fred_dup_event_time', fred_dup_event_time, 'converter',
        r'{path}: event time stamp \d+ us repeats that of {dup} '
        r'\[duplicate_timestamp\]'),
    skip('fred_dup_rgb_time', fred_dup_rgb_time, 'converter-skip',
         'duplicate_timestamp', r'{path}: RGB time stamp [\d.]+ s repeats'),
    error('fred_corrupt_jpg_decode', fred_corrupt_jpg_decode, 'dataset',
          r'{path}: cannot decode the image .* \[unreadable_frame\]'),
    error('fred_corrupt_png_decode', fred_corrupt_png_decode, 'loader',
          r'{path}: cannot decode the image .* \[unreadable_frame\]'),
    skip('fred_split_missing_seq', fred_split_missing_seq, 'converter-skip',
         'missing_sequence',
         r'{path}: sequence folder listed in the split does not exist'),
    error(
        'fred_split_bad_line', fred_split_bad_line, 'converter',
        r'{path}:2: expected a sequence id like "12/", got .a/b/. '
        r'\[malformed_split_line\]'),
    # FRED: every problem of a run at once, missing data
    error('fred_split_empty', fred_split_empty, 'converter-cli',
          r'{path}: split file lists no sequence \[empty_split\]'),
    error(
        'fred_missing_root', fred_missing_root, 'converter-cli',
        r'{path}: data root does not exist or is not a folder '
        r'\[missing_root\]'),
    error(
        'fred_missing_root_check', fred_missing_root, 'integrity',
        r'{path}: data root does not exist or is not a folder '
        r'\[missing_root\]'),
    error(
        'fred_two_splits', fred_two_splits, 'converter-cli',
        r'FRED data: 2 error\(s\) \(malformed_line: 1, unreadable_frame: 1\)'
        r'(.|\n)*{path}: file is truncated(.|\n)*{other}:3: expected '
        r'(.|\n)*Nothing was written'),
    error(
        'fred_two_sequences_check', fred_two_sequences, 'integrity',
        r'FRED data: 2 error\(s\) \(unreadable_frame: 2\)(.|\n)*'
        r'{path}: file is truncated(.|\n)*{other}: file is empty'),
    error(
        'fred_ann_missing_class', fred_ann_missing_class, 'converter-cli',
        r'{path}:3: line has no class; .*--classes drone.* '
        r'\[missing_class\](.|\n)*rerun with --classes drone'),
    skip('fred_ann_refused_frame', fred_ann_refused_frame, 'converter-skip',
         'frames dropped (malformed_line)',
         r'{path}:3: time and coordinates must be finite'),
    error(
        'fred_ann_no_class_at_all', fred_ann_no_class_at_all, 'converter-skip',
        r"{path}: split 'train' would hold no box: none "
        r'of its 0 frames(.|\n)*{coords}:1: line has no class'),
    # FRED: damage inside the compressed data (strict decoding)
    error('fred_zeroed_jpg', fred_zeroed_jpg, 'converter', JPEG_DAMAGE),
    error('fred_zeroed_jpg_check', fred_zeroed_jpg, 'integrity', JPEG_DAMAGE),
    error('fred_zeroed_jpg_ds', fred_zeroed_jpg, 'dataset',
          JPEG_DAMAGE_LOADED),
    error('fred_zeroed_jpg_loader', fred_zeroed_jpg, 'loader',
          JPEG_DAMAGE_LOADED),
    skip('fred_garbled_jpg', fred_garbled_jpg, 'converter-skip',
         'unreadable_frame', JPEG_DAMAGE),
    error('fred_garbled_jpg_loader', fred_garbled_jpg, 'loader',
          JPEG_DAMAGE_LOADED),
    error('fred_cut_jpg_eoi', fred_cut_jpg_eoi, 'converter', JPEG_DAMAGE),
    error('fred_cut_jpg_eoi_ds', fred_cut_jpg_eoi, 'dataset',
          JPEG_DAMAGE_LOADED),
    error(
        'fred_corrupt_jpg_conv', fred_corrupt_jpg_decode, 'converter',
        r'{path}: cannot decode the image \(libjpeg: .+\) '
        r'\[unreadable_frame\]'),
    error('fred_corrupt_png_check', fred_corrupt_png_decode, 'integrity',
          PNG_CRC),
    error('fred_zeroed_png', fred_zeroed_png, 'converter', PNG_CRC),
    error(
        'fred_zeroed_png_loader', fred_zeroed_png, 'loader',
        r'{path}: cannot decode the image \(CRC error in the IDAT chunk '
        r'at byte 33; \d+ bytes\) \[unreadable_frame\]'),
    error(
        'fred_truncated_event_ds', fred_truncated_event, 'dataset',
        r'{path}: cannot decode the image \(file is truncated \(no end '
        r'marker\); \d+ bytes\) \[unreadable_frame\]'),
    # KITTI: point clouds and images
    error('kitti_bin_size', kitti_bin_size, 'integrity',
          r'{path}: \d+ bytes is not a multiple of 16'),
    error('kitti_bin_empty', kitti_bin_empty, 'integrity',
          r'{path}: file is empty \(0 bytes, no points\)'),
    error('kitti_bin_empty_ds', kitti_bin_empty, 'dataset',
          r'{path}: file is empty \(0 bytes, no points\)'),
    error('kitti_bin_empty_loader', kitti_bin_empty, 'loader',
          r'{path}: file is empty \(0 bytes, no points\)'),
    error('kitti_points_nan', kitti_points_nan, 'integrity',
          r'{path}: 1 points with NaN or inf'),
    error('kitti_points_inf', kitti_points_inf, 'loader',
          r'{path}: 1 points with NaN or inf'),
    error('kitti_missing_velodyne', kitti_missing_velodyne, 'integrity',
          r'{path}: file missing'),
    error('kitti_missing_velo_ds', kitti_missing_velodyne, 'dataset',
          r'{path}: point cloud missing'),
    error('kitti_missing_image_ds', kitti_missing_image, 'dataset',
          r'{path}: image missing'),
    error('kitti_corrupt_png_decode', kitti_corrupt_png_decode, 'dataset',
          r'{path}: cannot decode image'),
    error('kitti_truncated_png', kitti_truncated_png, 'dataset',
          r'{path}: cannot decode image'),
    error('kitti_empty_png', kitti_empty_png, 'loader',
          r'{path}: cannot decode image'),
    error('kitti_zeroed_png', kitti_zeroed_png, 'integrity', KITTI_PNG_CRC),
    error('kitti_zeroed_png_conv', kitti_zeroed_png, 'converter',
          KITTI_PNG_CRC),
    error('kitti_zeroed_png_loader', kitti_zeroed_png, 'loader',
          KITTI_PNG_CRC),
    error(
        'kitti_cut_png_check', kitti_truncated_png, 'integrity',
        r'{path}: cannot decode image \(file is truncated \(no end '
        r'marker\)\) \[unreadable_image\]'),
    error('kitti_corrupt_png_check', kitti_corrupt_png_decode, 'integrity',
          KITTI_PNG_CRC),
    error(
        'kitti_text_png', kitti_text_png, 'converter-cli',
        r'{path}: cannot decode image \(not a JPEG or PNG image, and '
        r'OpenCV cannot decode it\)'),
    # KITTI: poses, times, calibration
    error('kitti_fewer_poses', kitti_fewer_poses, 'converter',
          r'{path}: {poses} poses but {frames} frames in {times}'),
    error('kitti_pose_nan', kitti_pose_nan, 'integrity',
          r'{path}:4: NaN or inf in pose'),
    error('kitti_times_decreasing', kitti_times_decreasing, 'integrity',
          r'{path}:5: time 0\.1 does not increase \(previous [\d.]+\)'),
    error('kitti_times_duplicated', kitti_times_duplicated, 'converter',
          r'{path}:7: time ([\d.]+) does not increase \(previous \1\)'),
    error('kitti_times_text', kitti_times_text, 'integrity',
          r"{path}:3: not a number: 'abc'"),
    error('kitti_missing_calib', kitti_missing_calib, 'converter-cli',
          r'{path}: file not found'),
    # KITTI: raw OXTS
    error('kitti_oxts_short_line', kitti_oxts_short_line, 'integrity-cli',
          r'{path}:1: expected 30 OXTS values, got 25'),
    error('kitti_oxts_nan', kitti_oxts_nan, 'converter',
          r"{path}:1: NaN or inf in 'ax'"),
    error('kitti_oxts_inf', kitti_oxts_inf, 'integrity',
          r"{path}:1: NaN or inf in 'wz'"),
    error('kitti_oxts_gap', kitti_oxts_gap, 'integrity',
          r'{path}: missing \(frames must run contiguously'),
    error('kitti_oxts_stamp_count', kitti_oxts_stamp_count, 'integrity',
          r'{path}: {stamps} timestamps but {packets} packets'),
    skip('kitti_oxts_time_back', kitti_oxts_time_back, 'integrity',
         'extract OXTS packets dropped (time not increasing)',
         r'{path}:21: 1 extract packets whose time does not increase'),
    skip('kitti_no_sync_oxts', kitti_no_sync_oxts, 'integrity',
         'sequences without raw IMU data',
         r'{path}: folder not found; IMU of sequence 00 marked missing'),
    error('kitti_no_extract_oxts', kitti_no_extract_oxts, 'converter',
          r"{path}: folder not found \(needed by imu_source='extract'"),
    error('kitti_unknown_sequence', kitti_unknown_sequence, 'dataset',
          r'sequence 05 not found: searched {path}'),
    # KITTI: every problem of a run, reported together
    error(
        'kitti_pose_and_bin', kitti_pose_and_bin, 'integrity',
        r'(?s)2 error\(s\) \(bad_file_size: 1, non_finite: 1\).*'
        r'{path}:4: NaN or inf in pose.*{path2}: \d+ bytes is not a '
        r'multiple of 16'),
    error(
        'kitti_pose_and_bin_conv', kitti_pose_and_bin, 'converter',
        r'(?s){path}:4: NaN or inf in pose.*{path2}: \d+ bytes is not a '
        r'multiple of 16'),
    error(
        'kitti_times_and_png', kitti_times_and_png, 'integrity',
        r"(?s){path}:3: not a number: 'abc'.*{path2}: cannot decode image "
        r'\(CRC error'),
    error('kitti_calib_and_oxts', kitti_calib_and_oxts, 'integrity',
          r"(?s){path}: file not found.*{path2}:1: NaN or inf in 'ax'"),
    error('kitti_sync_and_extract', kitti_sync_and_extract, 'integrity',
          r"(?s){path}:1: NaN or inf in 'wz'.*{path2}:1: NaN or inf in 'ax'"),
    error(
        'kitti_stamps_and_packet', kitti_stamps_and_packet, 'converter',
        r'(?s){path2}:1: expected 30 OXTS values, got 25.*{path}:4: '
        r'expected "YYYY-MM-DD hh:mm:ss.fffffffff", got .yesterday.'),
    error(
        'kitti_two_times_lines', kitti_two_times_lines, 'converter',
        r"(?s){path}:3: not a number: 'abc'.*{path2}:8: not a number: "
        r"'x8'"),
    error('kitti_rigid_and_sync', kitti_rigid_and_sync, 'integrity',
          r"(?s){path}: calibration R missing.*{path2}:1: NaN or inf in 'wz'"),
    error(
        'kitti_many_missing', kitti_many_missing, 'integrity-cli',
        r'(?s)12 error\(s\) \(missing_file: 12\), \d+ warning\(s\)\n'
        r'  ERROR {path}: file missing.*\.\.\. and 7 more errors'),
    error('kitti_two_sequences', kitti_two_sequences, 'integrity',
          r"(?s){path}:3: not a number: 'abc'.*{bin}: file is empty"),
    error(
        'kitti_ds_two_sequences', kitti_dataset_two_sequences, 'dataset',
        r'(?s){path}: info file of sequence 00 not found.*sequence 05 not '
        r'found: searched {missing}'),
    # KITTI: missing roots, nothing to convert
    error('kitti_missing_root', kitti_missing_root, 'integrity-cli',
          r'{path}: KITTI odometry root not found \(no such folder\)'),
    error('kitti_missing_root_conv', kitti_missing_root, 'converter-cli',
          r'{path}: KITTI odometry root not found \(no such folder\)'),
    error('kitti_missing_raw_root', kitti_missing_raw_root, 'converter-cli',
          r'{path}: KITTI raw root not found \(no such folder\)'),
    error(
        'kitti_no_poses', kitti_no_poses, 'integrity',
        r'{path}: no sequence to convert: 1 sequence folders, none with a '
        r'pose file {poses}'),
    error('kitti_missing_data_root', kitti_missing_data_root, 'dataset',
          r'{path}: data root not found \(no such folder\)'),
    error('kitti_no_sequences_dir', kitti_no_sequences_folder, 'integrity',
          r'{path}: sequence 00 not found \(searched {path}\)'),
    # Checkpoints named to the tools: one line, nothing built
    error('ckpt_missing', ckpt_missing, 'test-cli',
          r'^error: {path}: checkpoint file does not exist$'),
    error('ckpt_empty', ckpt_empty, 'test-cli',
          r'^error: {path}: checkpoint file is empty \(0 bytes\)$'),
    error('ckpt_garbage', ckpt_garbage, 'test-cli', CKPT_GARBAGE),
    error('ckpt_truncated', ckpt_truncated, 'test-cli', CKPT_TRUNCATED),
    error('ckpt_zeroed', ckpt_zeroed, 'test-cli', CKPT_ZEROED),
    error(
        'ckpt_no_data_pkl', ckpt_no_data_pkl, 'test-cli',
        r'^error: {path}: not a torch checkpoint: zip archive without '
        r'data\.pkl$'),
    error(
        'ckpt_legacy_truncated', ckpt_legacy_truncated, 'test-cli',
        r'^error: {path}: cannot unpickle the legacy \(pickle\) '
        r'checkpoint: \w+: .+$'),
    error('ckpt_folder', ckpt_folder, 'test-cli',
          r'^error: {path}: is a folder, not a checkpoint file$'),
    error(
        'ckpt_not_a_dict', ckpt_not_a_dict, 'test-cli',
        r'^error: {path}: holds a list, not a checkpoint dict \(or state '
        r'dict\)$'),
    error('ckpt_resume_truncated', ckpt_truncated, 'resume-cli',
          CKPT_TRUNCATED),
    error(
        'ckpt_resume_weights', ckpt_weights_only, 'resume-cli',
        r'^error: {path}: not a training checkpoint: no meta epoch / '
        r'iteration or message hub to resume from'),
    error('ckpt_resume_missing', ckpt_missing, 'resume-cli',
          r'^error: {path}: checkpoint file does not exist$'),
    error('ckpt_load_from_garbage', ckpt_garbage, 'load-from-cli',
          CKPT_GARBAGE),
    error('ckpt_load_from_zeroed', ckpt_zeroed, 'load-from-cli', CKPT_ZEROED),
]


def _expected_pattern(case: Case, names: dict) -> str:
    pattern = case.match
    for key, value in names.items():
        if isinstance(value, str):
            pattern = pattern.replace('{' + key + '}', re.escape(value))
    return pattern


def _broken_copy(case: Case, clean: str, tmp: str) -> tuple:
    """Copy the clean sample into ``tmp`` and plant the fault of ``case``."""
    root = osp.join(tmp, case.entry.split('-')[0])
    shutil.copytree(clean, root)
    return root, case.fault(root)


@pytest.fixture(scope='session')
def cli_outcomes(request, tmp_path_factory):
    """Outcomes of the command-line cases by case id.

    A tool run is mostly interpreter start and imports, so all of them are
    started at once on their broken copies and then waited for. A failing
    run must exit non-zero without a traceback.
    """
    started = {}
    for case in CASES:
        if case.entry in CLI_TOOLS:
            clean = request.getfixturevalue(
                f'clean_{case.entry.split("-")[0]}')
            tmp = str(tmp_path_factory.mktemp(case.id))
            root, names = _broken_copy(case, clean, tmp)
            args = CLI_TOOLS[case.entry](root, osp.join(tmp, 'work'), names)
            started[case.id] = names, subprocess.Popen(
                [sys.executable, *args],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True)
    outcomes = {}
    for case_id, (names, proc) in started.items():
        text = proc.communicate(timeout=300)[0]
        outcomes[case_id] = names, Outcome(proc.returncode != 0, text,
                                           Counter())
    return outcomes


@pytest.fixture(scope='session')
def baselines():
    """Counters of each entry point on the clean samples (filled lazily)."""
    return {}


@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_bad_data(case, request, tmp_path, baselines):
    if case.entry in CLI_TOOLS:
        names, outcome = request.getfixturevalue('cli_outcomes')[case.id]
        assert 'Traceback' not in outcome.text, outcome.text
        if case.entry.startswith('ckpt-'):
            # checked before anything is built: one line, nothing else
            assert outcome.text.startswith('error: '), outcome.text
            assert len(outcome.text.strip().splitlines()) == 1, outcome.text
    else:
        clean = request.getfixturevalue(f'clean_{case.entry.split("-")[0]}')
        root, names = _broken_copy(case, clean, str(tmp_path))
        run = ENTRY_POINTS[case.entry]
        outcome = run(root, str(tmp_path / 'work'), names.get('options', {}))
    if case.expect == 'error':
        assert outcome.failed, f'{case.entry} accepted the fault'
    else:
        assert not outcome.failed, outcome.text
        if case.entry not in baselines:
            clean_run = run(clean, str(tmp_path / 'clean_work'), {})
            assert not clean_run.failed, clean_run.text
            baselines[case.entry] = clean_run.counts
        assert outcome.counts[case.counter] > \
            baselines[case.entry][case.counter], outcome.counts
    assert names['path'] in outcome.text, outcome.text
    pattern = _expected_pattern(case, names)
    assert re.search(pattern, outcome.text), \
        f'{pattern!r} not found in:\n{outcome.text}'


def test_table_lists_every_case():
    """The docstring table and :data:`CASES` list the same cases."""
    rows = [[cell.strip() for cell in line.split('|')]
            for line in __doc__.splitlines()
            if line.count('|') == 3 and not line.startswith(('case', '---'))]
    assert [(r[0], r[2], r[3].split(':')[0]) for r in rows
            ] == [(c.id, c.entry.split('-', 1)[1], c.expect) for c in CASES]
    assert len({c.id for c in CASES}) == len(CASES) >= 20
    assert set(c.entry for c in CASES) == set(ENTRY_POINTS) | set(CLI_TOOLS)
    # a tool run reports by its exit status: only 'error' cases
    assert all(c.expect == 'error' for c in CASES if c.entry in CLI_TOOLS)


@pytest.mark.parametrize('entry', sorted(ENTRY_POINTS))
def test_clean_sample_passes(entry, request, tmp_path):
    """Every in-process entry point accepts the clean sample, so each
    failure above comes from its fault."""
    clean = request.getfixturevalue(f'clean_{entry.split("-")[0]}')
    outcome = ENTRY_POINTS[entry](clean, str(tmp_path), {})
    assert not outcome.failed, outcome.text
