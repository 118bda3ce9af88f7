import os.path as osp

import pytest

from projects.fred_fusion.fred_fusion.converters import parse_coordinates


def test_parses_every_real_legacy_line(fred_data):
    path = osp.join(fred_data, 'annotation_samples',
                    'seq60_coordinates_legacy_excerpt.txt')
    boxes, problems, skipped, _ = parse_coordinates(
        path, 'drone', img_size=(1280, 720))
    assert problems == [] and not skipped
    assert len(boxes) == 28
    assert boxes[0].time == pytest.approx(0.299997)
    assert boxes[0].bbox == (511.0, 245.0, 546.0, 273.0)
    assert boxes[0].track_id == 2 and boxes[0].label == 0
    # several boxes at one time, ints without decimals, boxes at the border
    assert sum(b.time == 0.499995 for b in boxes) == 2
    int_line = [b for b in boxes if b.time == 6.099939][0]
    assert int_line.bbox == (92.0, 485.0, 127.0, 508.0)
    assert int_line.track_id == 1
    assert (0.0, 0.0, 35.0, 42.0) in [b.bbox for b in boxes]


def test_legacy_lines_need_class_in_five_mode(fred_data):
    path = osp.join(fred_data, 'annotation_samples',
                    'seq60_coordinates_legacy_excerpt.txt')
    boxes, problems, _, _ = parse_coordinates(path, 'five')
    assert boxes == [] and len(problems) == 28
    assert problems[0].kind == 'missing_class'
    assert f'{path}:1:' in str(problems[0])
    # the message names the option that reads such files
    assert '--classes drone' in str(problems[0])


def test_current_format_with_class(fred_data):
    path = osp.join(fred_data, 'annotation_samples',
                    'current_format_example.txt')
    boxes, problems, _, _ = parse_coordinates(path, 'five', (1280, 720))
    assert problems == []
    assert boxes[0].label == 0 and boxes[0].track_id == 1
    assert boxes[0].bbox == (490.0, 413.0, 539.0, 448.0)


@pytest.mark.parametrize('line, reason', [
    ('0.5: 1, 2, 3', 'malformed_line'),
    ('0.5 1, 2, 3, 4', 'malformed_line'),
    ('0.5: 1, two, 3, 4, 1', 'malformed_line'),
    ('nan: 1, 2, 3, 4, 1', 'malformed_line'),
    ('0.5: 1, 2, 3, inf, 1', 'malformed_line'),
    ('0.5: 1, 2, 3, 4, 1.5', 'malformed_line'),
    ('0.5: 30, 2, 10, 4, 1, DJI Mini 2', 'inverted_box'),
    ('0.5: -50, 2, -10, 4, 1, DJI Mini 2', 'box_outside_frame'),
    ('0.5: 1290, 2, 1400, 4, 1, DJI Mini 2', 'box_outside_frame'),
    ('0.5: 10, 2, 20, 4, 1, Parrot Anafi', 'unknown_class'),
])
def test_bad_lines_name_file_and_line(tmp_path, line, reason):
    path = str(tmp_path / 'coordinates.txt')
    with open(path, 'w') as f:
        f.write('0.0: 1, 2, 3, 4, 1, DJI Mini 3\n' + line + '\n')
    boxes, problems, _, _ = parse_coordinates(path, 'five', (1280, 720))
    assert len(boxes) == 1 and len(problems) == 1
    assert problems[0].kind == reason
    assert problems[0].line == 2
    assert str(problems[0]).startswith(f'{path}:2: ')


def test_clips_partly_outside_boxes_and_counts_empty_ones(tmp_path):
    path = str(tmp_path / 'coordinates.txt')
    with open(path, 'w') as f:
        f.write('0.0: -20, 0, 1281.5, 30, 1, DJI Mini 3\n'
                '0.0: 1280, 5, 1282, 30, 2, DJI Mini 3\n')
    boxes, problems, skipped, _ = parse_coordinates(path, 'five', (1280, 720))
    assert problems == [] and skipped['empty_box'] == 1
    assert boxes[0].bbox == (0.0, 0.0, 1280.0, 30.0)


def test_refused_lines_with_the_times_they_may_describe(tmp_path):
    """A refused line with a readable time describes that time; one without
    describes any time between its readable neighbours."""
    path = str(tmp_path / 'coordinates.txt')
    with open(path, 'w') as f:
        f.write('0.0: 1, 2, 3, 4, 1, DJI Mini 3\n'
                '0.033333: 1, 2, 3, 4, 1, Parrot Anafi\n'
                '0.066666: 1, 2, 3, 4, 1, DJI Mini 3\n'
                'garbled\n'
                '0.133332: 1, 2, 3, 4, 1, DJI Mini 3\n'
                '0.166665 1, 2, 3, 4\n')
    parsed = parse_coordinates(path, 'five', (1280, 720))
    assert [b.line for b in parsed.boxes] == [1, 3, 5]
    assert [(r.problem.line, r.problem.kind, r.first_time, r.last_time)
            for r in parsed.refused
            ] == [(2, 'unknown_class', 0.033333, 0.033333),
                  (4, 'malformed_line', 0.066666, 0.133332),
                  (6, 'malformed_line', 0.133332, float('inf'))]
    assert [r.problem for r in parsed.refused] == parsed.problems
