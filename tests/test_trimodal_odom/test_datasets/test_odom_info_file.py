import pytest

from projects.trimodal_odom.trimodal_odom.datasets import parse_sequences


@pytest.mark.parametrize('given, expected', [
    ('00,01, 2', ['00', '01', '02']),
    ([0, 9, 10], ['00', '09', '10']),
    (['3', '07', '03'], ['03', '07']),
    (8, ['08']),
])
def test_parse_sequences(given, expected):
    assert parse_sequences(given) == expected


def test_parse_sequences_rejects_names():
    with pytest.raises(ValueError, match="'0a'"):
        parse_sequences('00,0a')
