import argparse
import io

import pytest

from jobs.cli import iter_lines, parse_duration


def test_iter_lines_splits_on_newline_only_and_keeps_bytes() -> None:
    data = b"a\r\nb\xff\xfe\n\n  \nc\x00d\rstill-c\nlast"
    assert list(iter_lines(io.BytesIO(data), chunk_size=3)) == [
        b"a\r",
        b"b\xff\xfe",
        b"c\x00d\rstill-c",
        b"last",
    ]


def test_parse_duration() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("2h") == 7200
    assert parse_duration("30s") == 30
    assert parse_duration("1d") == 86400
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("15 minutes")
