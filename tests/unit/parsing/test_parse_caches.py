"""The fast paths must give what the plain code gives: timestamp caches across clock and zone changes,
the str-split logfmt tokenizer against the regex grammar, and the ingest-time window."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from common.parsing import ParseOptions, parse_message
from common.parsing.formats import log4j, logfmt

NEW_YEAR_2024 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def test_yearless_cache_follows_the_clock_across_new_year_and_back() -> None:
    now = [NEW_YEAR_2024 + 30]
    options = ParseOptions(clock=lambda: now[0])
    line = b"Dec 31 23:00:00 host app[1]: x"
    klog = b"I1231 23:00:00.5 1 f.go:1] x"
    assert parse_message(line, options)["@timestamp"] == "2023-12-31T23:00:00.000Z"
    assert parse_message(klog, options)["@timestamp"] == "2023-12-31T23:00:00.500Z"
    now[0] = NEW_YEAR_2024 + 365 * 86400 - 3600  # 2024-12-30T23:00Z: the stamp is now within a day
    assert parse_message(line, options)["@timestamp"] == "2024-12-31T23:00:00.000Z"
    assert parse_message(klog, options)["@timestamp"] == "2024-12-31T23:00:00.500Z"
    now[0] = NEW_YEAR_2024 + 30  # a clock may go back (tests, replays): the cache must not stick
    assert parse_message(line, options)["@timestamp"] == "2023-12-31T23:00:00.000Z"


def test_stamp_within_a_day_flips_year_exactly_at_the_cutoff() -> None:
    stamp_2024 = NEW_YEAR_2024 + 100 * 86400  # 2024-04-10T00:00:00Z
    now = [stamp_2024 - 86400 - 1]
    options = ParseOptions(clock=lambda: now[0])
    line = b"Apr 10 00:00:00 host app: x"
    assert parse_message(line, options)["@timestamp"] == "2023-04-10T00:00:00.000Z"
    now[0] = stamp_2024 - 86400
    assert parse_message(line, options)["@timestamp"] == "2024-04-10T00:00:00.000Z"
    now[0] = stamp_2024 - 86400 - 0.5
    assert parse_message(line, options)["@timestamp"] == "2023-04-10T00:00:00.000Z"


def test_cached_stamps_are_per_zone() -> None:
    line = b"2023-07-01 12:00:00,5 INFO [main] a.B: x"
    utc = ParseOptions(clock=lambda: 1_700_000_000.0)
    berlin = ParseOptions(timezone="Europe/Berlin", clock=lambda: 1_700_000_000.0)
    for _ in range(2):
        assert parse_message(line, utc)["@timestamp"] == "2023-07-01T12:00:00.500Z"
        assert parse_message(line, berlin)["@timestamp"] == "2023-07-01T10:00:00.500Z"


def test_a_cached_non_month_stays_a_non_match() -> None:
    options = ParseOptions(clock=lambda: 1_700_000_000.0)
    access = b'1.2.3.4 - - [10/Foo/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 5'
    syslog = b"Foo 10 13:55:36 host app: x"
    for _ in range(2):
        assert parse_message(access, options)["event"]["dataset"] == "unknown"
        assert parse_message(syslog, options)["event"]["dataset"] == "unknown"


def _regex_pairs(text: str) -> list[tuple[str, str | None]] | None:
    if logfmt._LINE_RE.fullmatch(text) is None:
        return None
    return [(key, value if eq else None) for key, eq, value in logfmt._PAIR_RE.findall(text)]


logfmt_like = st.lists(
    st.sampled_from(
        [
            "a",
            "key",
            "=",
            '"',
            " ",
            "  ",
            "x y",
            "é",
            '=""',
            '" ',
            'msg="',
            "\t",
            "\\",
            ",",
            '\\"',
            "\\\\",
            "\\n",
        ]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=3000)
@given(logfmt_like)
def test_plain_logfmt_tokenizer_matches_the_regex_grammar(text: str) -> None:
    assert logfmt.split_pairs(text) == _regex_pairs(text)


def _regex_unquote(value: str) -> str:
    return logfmt._ESCAPE_RE.sub(lambda m: logfmt._ESCAPES.get(m.group(1), m.group(1)), value[1:-1])


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(["a", "\\", "n", "t", '"', "é", " ", "\n"]), max_size=12).map("".join))
def test_unquoting_matches_the_escape_regex(inner: str) -> None:
    assert logfmt._unquote(f'"{inner}"') == _regex_unquote(f'"{inner}"')


def test_escaped_quotes_inside_a_logfmt_value() -> None:
    line = 'ts=2023-11-10T08:06:25.035Z level=debug msg="reloading \\"prod.yaml\\" \\\\ ok" a=b\\c'
    assert logfmt.split_pairs(line) == [
        ("ts", "2023-11-10T08:06:25.035Z"),
        ("level", "debug"),
        ("msg", '"reloading \\"prod.yaml\\" \\\\ ok"'),
        ("a", "b\\c"),
    ]
    record = parse_message(line.encode(), ParseOptions(clock=lambda: 1_700_000_000.0))
    assert record["message"] == 'reloading "prod.yaml" \\ ok'
    assert record["labels"] == {"a": "b\\c"}


# The grammar the ZooKeeper scanner replaces (log4j.zookeeper_parts / zookeeper_origin).
_ZOOKEEPER_RE = re.compile(r" - ([A-Za-z]+) *\[(.*?)\] - (.*)", re.DOTALL)
_ZK_ORIGIN_RE = re.compile(r"(.*):([\w$.]+)@(\d+)$", re.DOTALL)
zookeeper_like = st.lists(
    st.sampled_from(
        [" - ", "INFO", "w", " ", "  ", "[", "]", "] - ", ":", "@", "7", "٣", "$", ".", "_", "é", "\n", "x"]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=3000)
@given(zookeeper_like)
def test_zookeeper_scanner_matches_the_regex_grammar(text: str) -> None:
    for candidate in (text, " - " + text, " - INFO  [" + text):
        m = _ZOOKEEPER_RE.match(candidate)
        assert log4j.zookeeper_parts(candidate) == (None if m is None else m.groups())
        origin = _ZK_ORIGIN_RE.match(candidate)
        assert log4j.zookeeper_origin(candidate) == (None if origin is None else origin.groups())


def test_a_zookeeper_line() -> None:
    line = (
        b"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774]"
        b" - Notification time out: 3200"
    )
    record = parse_message(line, ParseOptions(clock=lambda: 1_700_000_000.0))
    assert record["message"] == "Notification time out: 3200"
    assert record["log"] == {
        "level": "info",
        "logger": "FastLeaderElection",
        "origin": {"file": {"line": 774}},
    }
    assert record["process"] == {"thread": {"name": "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181"}}
