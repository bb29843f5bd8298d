"""The joiner state machine: streams, bounds, the flush timeout, pattern modes and its state."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import common.multiline.joiner
from common.multiline import (
    NO_DEADLINE,
    JoinedEvent,
    Joiner,
    JoinerPool,
    JoinRule,
    StateError,
    StreamLine,
    bare_line,
    join_all,
    record_id,
    source_of,
    stream_key,
)
from common.multiline.rules import CONTINUE_PAST, CONTINUE_THROUGH, HALT_BEFORE, HALT_WITH

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "multiline"
EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))
AUTO = JoinRule("auto", builtin="auto")


def fixture_texts(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").rstrip("\n").split("\n")


def feed_all(joiner: Joiner, lines: list[StreamLine], now_ms: int = 0) -> list[JoinedEvent]:
    events: list[JoinedEvent] = []
    for line in lines:
        events.extend(joiner.feed(line, now_ms))
    return events


def stream(texts: list[str], source: str = "", partition: int = 0, start: int = 0) -> list[StreamLine]:
    return [StreamLine("logs", partition, start + i, 5_000, source, t) for i, t in enumerate(texts)]


# ---- streams ---------------------------------------------------------------------------------


def test_interleaved_sources_in_one_partition_do_not_mix() -> None:
    java = fixture_texts("java-caused-by.log")
    python = fixture_texts("python-chained.log")
    a_host = source_of(host="web-1", file="/var/log/orders/app.log")
    b_host = source_of(host="web-2", container="worker")
    lines: list[StreamLine] = []
    offset = 0
    # Round-robin one line of each, as a partition carrying two shippers' lines looks.
    for i in range(max(len(java), len(python))):
        for source, texts in ((a_host, java), (b_host, python)):
            if i < len(texts):
                lines.append(StreamLine("logs", 3, offset, 7_000, source, texts[i]))
                offset += 1
    events = list(join_all(lines, lambda topic, source: AUTO))
    by_source: dict[str, list[JoinedEvent]] = {}
    for event in events:
        by_source.setdefault(event.source, []).append(event)
    assert [e.line_count for e in by_source[a_host]] == [1, 18, 1, 3, 1]
    assert [e.line_count for e in by_source[b_host]] == [1, 24, 1, 4, 1]
    java_trace = by_source[a_host][1]
    assert java_trace.text == "\n".join(java[1:19])
    assert list(java_trace.offsets) == sorted(java_trace.offsets)
    assert java_trace.offsets[1] - java_trace.offsets[0] == 2  # every other message of the partition
    assert record_id(java_trace) == f"logs:3:{java_trace.first_offset}"


def test_same_source_on_two_partitions_are_two_streams() -> None:
    first = StreamLine("logs", 0, 10, 0, "", "2024-03-02 ERROR x failed")
    other = StreamLine("logs", 1, 10, 0, "", "\tat somewhere(A.java:1)")
    assert stream_key(first) != stream_key(other)
    pool = JoinerPool(lambda topic, source: AUTO)
    assert pool.feed(first, 0) == ()
    assert pool.feed(other, 0) == ()
    assert len(pool) == 2
    assert sorted(e.line_count for e in pool.flush()) == [1, 1]


def test_source_and_stream_key() -> None:
    assert source_of() == ""
    assert source_of(host="h", file="/var/log/a.log", container="c") == "h|/var/log/a.log"
    assert source_of(host="h", container="c") == "h|c"
    line = bare_line("app.logs", 2, 41, 1_700_000_000_000, b"hello\r\n")
    assert line == StreamLine("app.logs", 2, 41, 1_700_000_000_000, "", "hello")
    assert stream_key(line) == "app.logs:2:"
    assert stream_key(line._replace(source="h|/a:b")) == "app.logs:2:h|/a:b"


# ---- bounds ----------------------------------------------------------------------------------


def test_max_lines_cuts_and_the_rest_starts_a_continued_event() -> None:
    rule = JoinRule("j", builtin="java", max_lines=5)
    texts = ["2024-03-02 ERROR boom", *[f"\tat a.B.c{i}(B.java:{i})" for i in range(11)]]
    joiner = Joiner(rule)
    events = feed_all(joiner, stream(texts))
    flushed = joiner.flush()
    assert flushed is not None
    events.append(flushed)
    assert [e.line_count for e in events] == [5, 5, 2]
    assert [e.truncated for e in events] == [True, True, False]
    assert [e.continued for e in events] == [False, True, True]
    assert [e.first_offset for e in events] == [0, 5, 10]
    assert "\n".join(e.text for e in events) == "\n".join(texts)


def test_max_bytes_cut_is_deterministic_and_never_exceeds_the_bound_when_lines_fit() -> None:
    rule = JoinRule("j", builtin="java", max_bytes=100)
    texts = ["2024-03-02 ERROR é boom", *[f"\tat a.B.method{i}(B.java:{i})" for i in range(20)]]
    runs = []
    for _ in range(2):
        joiner = Joiner(rule)
        events = feed_all(joiner, stream(texts))
        last = joiner.flush()
        assert last is not None
        runs.append([*events, last])
    assert runs[0] == runs[1]
    events = runs[0]
    assert len(events) > 2
    for event in events:
        assert event.byte_size == len(event.text.encode("utf-8")) <= 100
    assert all(e.truncated for e in events[:-1]) and not events[-1].truncated
    assert sum(e.line_count for e in events) == len(texts)


def test_a_single_line_over_max_bytes_is_kept_whole() -> None:
    rule = JoinRule("j", builtin="auto", max_bytes=64)
    joiner = Joiner(rule)
    long_line = "2024-03-02 ERROR " + "x" * 200
    assert joiner.feed(StreamLine("t", 0, 0, 0, "", long_line), 0) == ()
    (cut,) = joiner.feed(StreamLine("t", 0, 1, 0, "", "\tat a.B(B.java:1)"), 0)
    assert cut.text == long_line and cut.truncated


# ---- timeout -------------------------------------------------------------------------------------


def test_flush_due_emits_the_pending_event_of_a_quiet_stream() -> None:
    rule = JoinRule("auto", builtin="auto", timeout_ms=1_000)
    joiner = Joiner(rule)
    assert joiner.deadline_ms == NO_DEADLINE
    feed_all(joiner, stream(["2024-03-02 ERROR boom", "\tat a.B(B.java:1)"]), now_ms=10_000)
    assert joiner.deadline_ms == 11_000
    assert joiner.flush_due(10_999) is None
    event = joiner.flush_due(11_000)
    assert event is not None and event.line_count == 2
    assert joiner.pending_lines == 0 and joiner.deadline_ms == NO_DEADLINE
    assert joiner.flush_due(99_000) is None


def test_each_line_pushes_the_deadline() -> None:
    joiner = Joiner(JoinRule("auto", builtin="auto", timeout_ms=500))
    joiner.feed(StreamLine("t", 0, 0, 0, "", "2024 ERROR x"), 1_000)
    joiner.feed(StreamLine("t", 0, 1, 0, "", "\tat y"), 1_400)
    assert joiner.flush_due(1_600) is None
    assert joiner.flush_due(1_900) is not None


def test_pool_flush_due_only_flushes_quiet_streams() -> None:
    pool = JoinerPool(lambda topic, source: JoinRule("auto", builtin="auto", timeout_ms=1_000))
    pool.feed(StreamLine("t", 0, 0, 0, "a", "2024 ERROR a"), 0)
    pool.feed(StreamLine("t", 0, 1, 0, "b", "2024 ERROR b"), 900)
    assert [e.source for e in pool.flush_due(1_000)] == ["a"]
    assert [e.source for e in pool.flush_due(1_900)] == ["b"]
    assert len(pool) == 0


def test_a_gap_in_kafka_timestamps_longer_than_the_timeout_never_continues() -> None:
    joiner = Joiner(JoinRule("auto", builtin="auto", timeout_ms=1_000))
    joiner.feed(StreamLine("t", 0, 0, 10_000, "", "2024 ERROR x"), 0)
    (done,) = joiner.feed(StreamLine("t", 0, 1, 11_001, "", "\tat y"), 0)
    assert done.line_count == 1
    assert joiner.pending_lines == 1


# ---- pattern rules (Vector modes, Filebeat) ------------------------------------------------------


def pattern_rule(mode: int, condition: str, start: str | None = None, negate: bool = False) -> JoinRule:
    import re

    def test_of(pattern: str) -> object:
        compiled = re.compile(pattern)
        return lambda text: compiled.search(text) is not None

    return JoinRule(
        "p",
        mode=mode,
        condition=test_of(condition),  # type: ignore[arg-type]
        start=test_of(start) if start else None,  # type: ignore[arg-type]
        negate=negate,
    )


def texts_of(rule: JoinRule, texts: list[str]) -> list[str]:
    return [e.text for e in join_all(stream(texts), lambda topic, source: rule)]


def test_continue_through() -> None:
    rule = pattern_rule(CONTINUE_THROUGH, r"^\s")
    assert texts_of(rule, ["a", " b", " c", "d", "e", " f"]) == ["a\n b\n c", "d", "e\n f"]


def test_continue_through_with_a_start_pattern_leaves_other_lines_alone() -> None:
    rule = pattern_rule(CONTINUE_THROUGH, r"^\s", start=r"^\[")
    assert texts_of(rule, ["[1] a", " b", "stray", " c", "[2] d"]) == ["[1] a\n b", "stray", " c", "[2] d"]


def test_continue_past_ends_with_the_first_line_that_does_not_match() -> None:
    rule = pattern_rule(CONTINUE_PAST, r"\\$")
    joiner = Joiner(rule)
    assert joiner.feed(StreamLine("t", 0, 0, 0, "", "cmd a \\"), 0) == ()
    assert joiner.feed(StreamLine("t", 0, 1, 0, "", "  b \\"), 0) == ()
    (done,) = joiner.feed(StreamLine("t", 0, 2, 0, "", "  c"), 0)  # emitted at once: it is complete
    assert done.text == "cmd a \\\n  b \\\n  c"
    (alone,) = joiner.feed(StreamLine("t", 0, 3, 0, "", "single"), 0)
    assert alone.text == "single" and joiner.pending_lines == 0


def test_halt_before() -> None:
    rule = pattern_rule(HALT_BEFORE, r"^\[")
    assert texts_of(rule, ["[1] a", "b", "[2] c", "[3] d", "e"]) == ["[1] a\nb", "[2] c", "[3] d\ne"]


def test_halt_with_emits_as_soon_as_the_terminating_line_arrives() -> None:
    rule = pattern_rule(HALT_WITH, r";$")
    joiner = Joiner(rule)
    assert joiner.feed(StreamLine("t", 0, 0, 0, "", "SELECT a"), 0) == ()
    (done,) = joiner.feed(StreamLine("t", 0, 1, 0, "", "FROM b;"), 0)
    assert done.text == "SELECT a\nFROM b;"
    (alone,) = joiner.feed(StreamLine("t", 0, 2, 0, "", "COMMIT;"), 0)
    assert alone.text == "COMMIT;"


# ---- state ---------------------------------------------------------------------------------------


def all_fixture_lines() -> list[StreamLine]:
    lines: list[StreamLine] = []
    for i, name in enumerate(sorted(p.name for p in FIXTURES.glob("*.log"))):
        for text in fixture_texts(name):
            # Two sources so that the round trip covers several streams' states.
            # 40 ms apart: the Kafka-timestamp gap rule splits where one source waits for the other.
            lines.append(StreamLine("logs", 0, len(lines), 1_000 + 40 * len(lines), f"h|{i % 2}", text))
    return lines


ALL_LINES = all_fixture_lines()


def run(lines: list[StreamLine], rule: JoinRule, cut: int | None) -> list[JoinedEvent]:
    """Feed per stream; at ``cut`` every joiner goes through to_state/from_state (a restore).

    Processing time advances 10 ms a line and quiet streams are flushed as a timer would.
    """
    joiners: dict[str, Joiner] = {}
    events: list[JoinedEvent] = []
    for index, line in enumerate(lines):
        if index == cut:
            joiners = {key: Joiner.from_state(rule, joiner.to_state()) for key, joiner in joiners.items()}
        joiner = joiners.setdefault(stream_key(line), Joiner(rule))
        events.extend(joiner.feed(line, index * 10))
        for other in joiners.values():
            due = other.flush_due(index * 10)
            if due is not None:
                events.append(due)
    for joiner in joiners.values():
        last = joiner.flush()
        if last is not None:
            events.append(last)
    return events


@settings(max_examples=150, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=len(ALL_LINES)),
    max_lines=st.integers(min_value=1, max_value=30),
    max_bytes=st.integers(min_value=64, max_value=3_000),
    timeout_ms=st.integers(min_value=30, max_value=2_000),
)
def test_state_round_trip_at_any_point_gives_identical_events(
    cut: int, max_lines: int, max_bytes: int, timeout_ms: int
) -> None:
    rule = JoinRule("auto", builtin="auto", max_lines=max_lines, max_bytes=max_bytes, timeout_ms=timeout_ms)
    assert run(ALL_LINES, rule, cut) == run(ALL_LINES, rule, None)


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(
        st.one_of(
            st.sampled_from(
                ["", "\tat a.B(B.java:1)", "Caused by: x.Y: z", "Traceback (most recent call last):"]
            ),
            st.text(max_size=30),
        ),
        max_size=40,
    ),
    cut=st.integers(min_value=0, max_value=40),
)
def test_state_round_trip_on_arbitrary_text(texts: list[str], cut: int) -> None:
    lines = stream(texts, source="h|\ud800 odd")
    assert run(lines, AUTO, cut) == run(lines, AUTO, None)


def test_state_keeps_every_field() -> None:
    joiner = Joiner(AUTO)
    joiner.feed(StreamLine("logs", 7, 100, 1_234, "h|/f", "2024 ERROR é", context="ctx"), 50)
    joiner.feed(StreamLine("logs", 7, 102, 1_300, "h|/f", "Traceback (most recent call last):"), 60)
    data = joiner.to_state()
    restored = Joiner.from_state(AUTO, data)
    assert restored.to_state() == data
    assert restored.deadline_ms == joiner.deadline_ms == 1_060
    assert restored.flush() == joiner.flush()
    assert Joiner(AUTO).to_state() == b""
    assert Joiner.from_state(AUTO, b"").pending_lines == 0


@pytest.mark.parametrize(
    "damage", [lambda d: d[:-1], lambda d: d + b"x", lambda d: b"\x09" + d[1:], lambda d: d[:5]]
)
def test_damaged_state_is_a_clear_error(damage: object) -> None:
    joiner = Joiner(AUTO)
    joiner.feed(StreamLine("logs", 0, 1, 0, "", "2024 ERROR x"), 0)
    with pytest.raises(StateError):
        Joiner.from_state(AUTO, damage(joiner.to_state()))  # type: ignore[operator]


# ---- compiled (mypyc) and pure Python agree --------------------------------------------------------

_PURE_JOIN = """
import json, sys
import common.multiline.joiner as joiner
from common.multiline import JoinRule, StreamLine, join_all
assert joiner.__file__.endswith(".py"), joiner.__file__
rule = JoinRule("auto", builtin="auto", max_lines=7, max_bytes=400)
lines = [StreamLine(*fields) for fields in json.load(sys.stdin)]
print(json.dumps([list(e) for e in join_all(lines, lambda topic, source: rule)]))
"""


@pytest.mark.skipif(
    not str(common.multiline.joiner.__file__).endswith(EXT_SUFFIX),
    reason="common/multiline is not compiled",
)
def test_compiled_and_pure_python_joiners_give_the_same_events(tmp_path: Path) -> None:
    shutil.copytree(
        REPO / "common", tmp_path / "common", ignore=shutil.ignore_patterns(f"*{EXT_SUFFIX}", "__pycache__")
    )
    result = subprocess.run(
        [sys.executable, "-c", _PURE_JOIN],
        input=json.dumps([list(line) for line in ALL_LINES]).encode(),
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )
    rule = JoinRule("auto", builtin="auto", max_lines=7, max_bytes=400)
    compiled = [list(e) for e in join_all(ALL_LINES, lambda topic, source: rule)]
    assert json.loads(result.stdout) == json.loads(json.dumps(compiled))
