import pytest

from mmfusion.datasets import DataError, DataProblem, DataReport


class ToyDataError(DataError):
    dataset = 'toy'
    max_listed = 3


def test_problem_names_file_line_and_kind():
    problem = DataProblem('malformed_line', 'seq/times.txt',
                          "not a number: 'abc'", 3)
    assert problem.where == 'seq/times.txt:3'
    assert str(problem) == \
        "seq/times.txt:3: not a number: 'abc' [malformed_line]"
    assert str(DataProblem('missing_file', 'a.png', 'file not found')) == \
        'a.png: file not found [missing_file]'
    # a plain tuple: it crosses process boundaries as one
    assert DataProblem(*tuple(problem)) == problem


def test_error_of_one_problem_is_the_problem():
    problem = DataProblem('empty_file', 'x.bin', 'file is empty')
    error = ToyDataError(problem)
    assert str(error) == 'x.bin: file is empty [empty_file]'
    assert error.problems == [problem]
    assert isinstance(error, ValueError)


def test_error_counts_kinds_and_names_the_first():
    problems = [
        DataProblem('malformed_line', 'a.txt', f'line {i} is bad', i)
        for i in range(1, 5)
    ] + [DataProblem('missing_file', 'b.png', 'file not found')]
    lines = str(ToyDataError(problems)).splitlines()
    assert lines[0] == ('toy data: 5 error(s) (malformed_line: 4, '
                        'missing_file: 1), 0 warning(s)')
    assert lines[1:] == [
        '  ERROR a.txt:1: line 1 is bad [malformed_line]',
        '  ERROR a.txt:2: line 2 is bad [malformed_line]',
        '  ERROR a.txt:3: line 3 is bad [malformed_line]',
        '  ... and 2 more errors',
    ]


def test_report_collects_warns_counts_and_raises():
    report = DataReport(ToyDataError)
    assert report.ok
    report.raise_if_errors()
    report.warn('no_raw_imu', 'raw/', 'no raw data; IMU marked missing')
    report.count('sequences without raw IMU data')
    report.count('nothing', 0)
    assert report.ok and report.counts == {'sequences without raw IMU data': 1}
    report.add_errors(
        ToyDataError(DataProblem('non_finite', 'p.txt', 'NaN in pose', 4)))
    report.error('missing_file', 'c.bin', 'file missing')
    assert not report.ok
    assert report.format().splitlines() == [
        'toy data: 2 error(s) (missing_file: 1, non_finite: 1), '
        '1 warning(s)',
        '  ERROR p.txt:4: NaN in pose [non_finite]',
        '  ERROR c.bin: file missing [missing_file]',
        '  WARNING raw/: no raw data; IMU marked missing [no_raw_imu]',
        '  COUNT sequences without raw IMU data: 1',
    ]
    with pytest.raises(ToyDataError) as e:
        report.raise_if_errors()
    assert str(e.value) == report.format(max_lines=3)
    assert [p.kind for p in e.value.problems] == ['non_finite', 'missing_file']


def test_merge_keeps_the_order_of_the_parts():
    parts = []
    for seq in ('00', '01'):
        part = DataReport(ToyDataError)
        part.error('missing_file', f'{seq}/a.png', 'file not found')
        part.warn('no_imu', f'{seq}/oxts', 'no raw data')
        part.count('frames without IMU', 2)
        parts.append(part)
    report = DataReport(ToyDataError)
    for part in parts:
        report.merge(part)
    assert [p.file for p in report.errors] == ['00/a.png', '01/a.png']
    assert [p.file for p in report.warnings] == ['00/oxts', '01/oxts']
    assert report.counts == {'frames without IMU': 4}
