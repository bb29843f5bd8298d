"""The job's multi-line joining without Flink: which messages are lines, offset order, joining across
batches through the state bytes, timer flushes, and what a joined event becomes as a record."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flink_fakes import FakeContext, FakeTimers

from common.multiline import NO_DEADLINE, JoinedEvent, MultilineOptions, load_config, parse_config
from common.multiline.messages import event_message, stream_line
from common.parsing import ParseOptions, parse_messages
from common.rules import RuleEngine
from common.schema.stats import INDEXED
from jobs.elements import DEADLETTER, DOC
from jobs.operators.batch import BatchContext, KafkaRecord, process_batch
from jobs.operators.multiline import BatchJoiner, event_records, records_in_offset_order

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "multiline"
TS = 1795391990000
TIMEOUT = 1000
MAX = 1 << 20


class DictState:
    """MapState<source, bytes> as the operator's keyed state offers it, over a dict."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.writes = 0

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        assert isinstance(value, bytes) and value
        self.writes += 1
        self.data[key] = value

    def remove(self, key: str) -> None:
        self.data.pop(key, None)

    def items(self) -> Iterable[tuple[str, bytes]]:
        return self.data.items()


def joiner() -> BatchJoiner:
    return BatchJoiner(load_config(MultilineOptions(timeout_ms=TIMEOUT)), MAX)


def records(values: list[bytes], first_offset: int = 0, partition: int = 0) -> list[KafkaRecord]:
    return [
        (value, "logs", partition, first_offset + i, TS + first_offset + i) for i, value in enumerate(values)
    ]


def fixture_lines(name: str) -> list[bytes]:
    return [line.encode() for line in (FIXTURES / name).read_text().splitlines()]


def filebeat(line: str, host: str, path: str) -> bytes:
    return json.dumps(
        {
            "@timestamp": "2026-11-22T10:00:00.000Z",
            "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.11.0"},
            "message": line,
            "log": {"file": {"path": path}, "offset": 1},
            "host": {"name": host},
            "agent": {"type": "filebeat"},
        }
    ).encode()


# ---- which messages are lines --------------------------------------------------------------------


def test_bare_text_is_a_line_of_the_partitions_bare_stream() -> None:
    line = stream_line("logs", 1, 7, TS, b"\tat a.B.c(B.java:1)\r\n", max_bytes=MAX)
    assert line is not None
    assert (line.source, line.text, line.offset) == ("", "\tat a.B.c(B.java:1)", 7)
    assert line.context == "\tat a.B.c(B.java:1)\r\n"  # the value itself: a one-line event parses as before


def test_an_envelope_gives_its_inner_line_and_its_host_and_file_as_source() -> None:
    line = stream_line(
        "logs", 0, 3, TS, filebeat("\tat x.Y.z(Y.java:9)", "web-1", "/var/log/app.log"), max_bytes=MAX
    )
    assert line is not None
    assert line.text == "\tat x.Y.z(Y.java:9)"
    assert line.source == "web-1|/var/log/app.log"
    vector = json.dumps({"message": "hi", "source_type": "file", "host": "h2", "file": "/x.log"}).encode()
    found = stream_line("logs", 0, 4, TS, vector, max_bytes=MAX)
    assert found is not None and found.source == "h2|/x.log"


@pytest.mark.parametrize(
    "value",
    [
        b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a"}}]}]}]}',  # OTLP JSON
        b"\n\x12\x05hello",  # OTLP protobuf
        b'{"level":"info","msg":"a structured line is a whole event"}',  # plain JSON
        b"line one\nline two",  # already joined upstream
        b"\xff\xfe not utf-8",
        b"x" * 200,  # over the size limit below
    ],
)
def test_messages_that_are_parsed_alone(value: bytes) -> None:
    assert stream_line("logs", 0, 0, TS, value, max_bytes=128) is None


# ---- order ---------------------------------------------------------------------------------------


def test_a_batch_is_sorted_by_offset_only_when_it_is_not_already() -> None:
    ordered = records_in_offset_order("logs", 2, [b"a", b"b", b"c"], [5, 6, 7], [1, 2, 3])
    assert [r[3] for r in ordered] == [5, 6, 7]
    shuffled = records_in_offset_order("logs", 2, [b"c", b"a", b"b"], [7, 5, 6], [3, 1, 2])
    assert shuffled == [(b"a", "logs", 2, 5, 1), (b"b", "logs", 2, 6, 2), (b"c", "logs", 2, 7, 3)]


# ---- joining across batches ----------------------------------------------------------------------


def _feed_in_batches(
    values: list[bytes], cuts: list[int], now: int = 0
) -> tuple[list[JoinedEvent], DictState]:
    batch_joiner, state = joiner(), DictState()
    events: list[JoinedEvent] = []
    bounds = [0, *cuts, len(values)]
    for start, end in itertools.pairwise(bounds):
        out = batch_joiner.join(records(values[start:end], start), state, now)
        assert out.direct == []
        events.extend(out.events)
    events.extend(batch_joiner.flush_all("logs", state))
    return events, state


def test_a_java_trace_split_over_batches_is_one_event_whatever_the_cut() -> None:
    values = fixture_lines("java-caused-by.log")
    whole, _ = _feed_in_batches(values, [])
    assert [e.line_count for e in whole] == [1, 18, 1, 3, 1]
    trace = whole[1]
    assert trace.first_offset == 1 and trace.text.endswith("... 30 more")
    for cut in range(1, len(values)):
        split, state = _feed_in_batches(values, [cut])
        assert split == whole, cut
        assert state.data == {}


def test_interleaved_streams_of_one_partition_join_apart() -> None:
    java = fixture_lines("java-caused-by.log")[1:19]
    go = fixture_lines("go-panic.log")[2:20]
    values: list[bytes] = []
    for i in range(max(len(java), len(go))):
        if i < len(java):
            values.append(filebeat(java[i].decode(), "web-1", "/var/log/orders.log"))
        if i < len(go):
            values.append(filebeat(go[i].decode(), "web-2", "/var/log/orders.log"))
        values.append(f"2024-03-02 14:07:{i:02d} INFO bare line {i}".encode())
    events, _ = _feed_in_batches(values, [7, 30])
    joined = [e for e in events if e.line_count > 1]
    assert sorted(e.source for e in joined) == ["web-1|/var/log/orders.log", "web-2|/var/log/orders.log"]
    java_event = next(e for e in joined if e.source.startswith("web-1"))
    assert java_event.line_count == len(java) and java_event.first_offset == 0
    assert sum(e.line_count for e in events) == len(values)
    assert sorted(o for e in events for o in e.offsets) == list(range(len(values)))


def test_state_is_written_once_per_stream_and_batch() -> None:
    batch_joiner, state = joiner(), DictState()
    out = batch_joiner.join(records([b"2024 a", b"2024 b", b"2024 c"]), state, 0)
    assert len(out.events) == 2 and state.writes == 1 and out.deadline_ms == TIMEOUT


# ---- timers --------------------------------------------------------------------------------------


def test_the_timer_flushes_only_streams_whose_deadline_passed() -> None:
    batch_joiner, state = joiner(), DictState()
    first = batch_joiner.join(records([filebeat("2024 one", "a", "/f")]), state, now_ms=0)
    second = batch_joiner.join(records([filebeat("2024 two", "b", "/f")], 1), state, now_ms=600)
    assert (first.deadline_ms, second.deadline_ms) == (1000, 1600)
    events, earliest = batch_joiner.flush_due("logs", state, 999)
    assert events == [] and earliest == 1000
    events, earliest = batch_joiner.flush_due("logs", state, 1000)
    assert [e.first_offset for e in events] == [0] and earliest == 1600
    events, earliest = batch_joiner.flush_due("logs", state, 5000)
    assert [e.first_offset for e in events] == [1] and earliest == NO_DEADLINE
    assert state.data == {}


def test_a_none_rule_emits_at_once_and_keeps_no_state() -> None:
    config = parse_config({"default": "none"})
    batch_joiner, state = BatchJoiner(config, MAX), DictState()
    out = batch_joiner.join(records([b"a", b"\tb"]), state, 0)
    assert len(out.events) == 2 and out.deadline_ms == NO_DEADLINE and state.data == {}


# ---- the events as records -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[RuleEngine]:
    with RuleEngine(count_thresholds=False) as rule_engine:
        rule_engine.replace_all([])
        yield rule_engine


def _context(engine: Any, parse: Any = None) -> BatchContext:
    return BatchContext(
        parse=parse or (lambda raw: parse_messages(raw, ParseOptions())),
        engine=engine,
        index_prefix="logs",
        window_seconds=60,
    )


def test_a_one_line_event_is_the_record_it_was_before_joining(engine: RuleEngine) -> None:
    value = b"Nov 22 23:59:50 web-1 sshd[42]: Invalid user admin from 10.0.0.9\n"
    events, _ = _feed_in_batches([value], [])
    recs, joined = event_records(events)
    assert recs == [(value, "logs", 0, 0, TS)]
    joined_out = process_batch(recs, 0, _context(engine), joined)
    alone = process_batch([(value, "logs", 0, 0, TS)], 0, _context(engine))
    strip = ("ingested",)
    docs = [json.loads(out.writes[0][3]) for out in (joined_out, alone)]
    for doc in docs:
        for key in strip:
            doc["event"].pop(key)
    assert docs[0] == docs[1]
    assert joined_out.writes[0][1] == "logs:0:0"


def test_an_enveloped_trace_is_one_record_with_its_first_offset_labels_and_envelope(
    engine: RuleEngine,
) -> None:
    lines = fixture_lines("java-caused-by.log")[1:19]
    values = [filebeat(line.decode(), "web-1", "/var/log/orders.log") for line in lines]
    events, _ = _feed_in_batches(values, [5], now=0)
    assert len(events) == 1
    event = events[0]
    assert json.loads(event_message(event))["message"] == event.text
    recs, joined = event_records(events)
    out = process_batch(recs, 0, _context(engine), joined)
    [(kind, doc_id, _, body, stat)] = out.writes
    document = json.loads(body)
    assert (kind, doc_id) == (DOC, "logs:0:0")
    assert document["labels"]["multiline_lines"] == str(len(lines))
    assert document["logflow"]["kafka"]["offsets"] == list(range(len(lines)))
    assert document["host"]["name"] == "web-1" and document["log"]["file"]["path"] == "/var/log/orders.log"
    assert "springframework" in document["error"]["type"]
    assert "Caused by: org.postgresql.util.PSQLException" in document["message"]
    assert stat is not None and stat.outcome == INDEXED and stat.events == 1 and stat.ts_ms == TS


def test_a_cut_event_carries_truncated_and_continued_labels(engine: RuleEngine) -> None:
    config = load_config(MultilineOptions(max_lines=3, timeout_ms=TIMEOUT))
    batch_joiner, state = BatchJoiner(config, MAX), DictState()
    values = [b"2024 ERROR boom", b"java.lang.IllegalStateException: x", b"\tat a", b"\tat b", b"\tat c"]
    out = batch_joiner.join(records(values), state, 0)
    events = out.events + batch_joiner.flush_all("logs", state)
    recs, joined = event_records(events)
    written = process_batch(recs, 0, _context(engine), joined).writes
    labels = [json.loads(w[3]).get("labels", {}) for w in written]
    assert labels[0]["multiline_truncated"] == "true" and "multiline_continued" not in labels[0]
    assert labels[1]["multiline_continued"] == "true"


def test_a_joined_event_that_fails_is_one_dead_letter_listing_its_offsets(engine: RuleEngine) -> None:
    events, _ = _feed_in_batches([b"2024 ERROR boom", b"\tat a", b"\tat b"], [1])
    recs, joined = event_records(events)

    def broken(raw: bytes) -> list[dict[str, Any]]:
        raise RuntimeError("parser bug")

    [(kind, doc_id, _, letter, stat)] = process_batch(recs, 0, _context(engine, broken), joined).writes
    assert (kind, doc_id) == (DEADLETTER, "logs:0:0")
    body = json.loads(letter)
    assert body["kafka"]["offset"] == 0 and body["kafka"]["offsets"] == [0, 1, 2]
    assert body["event"]["original"] == "2024 ERROR boom\n\tat a\n\tat b"
    assert stat is not None and stat.events == 1


# ---- the Flink glue's timer bookkeeping, with stand-ins for Flink's state and timer service -------


def _keyed_joining() -> tuple[Any, DictState]:
    from jobs.operators.multiline_state import KeyedJoining

    joining = KeyedJoining()
    state = DictState()
    joining._joiner = joiner()
    joining._pending = state
    return joining, state


def test_every_batch_arms_its_deadline_on_the_tick_grid_with_a_backup_and_the_timer_flushes_what_is_due() -> (
    None
):
    from pyflink.datastream import TimeDomain

    from jobs.operators.multiline_state import BACKUP_MS, END_OF_INPUT, TICK_MS, timer_times

    assert timer_times(TICK_MS * 4) == (TICK_MS * 4, TICK_MS * 4 + BACKUP_MS)  # on the grid: as it is
    assert timer_times(TICK_MS * 4 + 1) == (TICK_MS * 5, TICK_MS * 5 + BACKUP_MS)  # else the next point
    joining, state = _keyed_joining()
    timers = FakeTimers()
    for batch in range(5):  # a batch every 100 ms on one stream, and one on another stream at first
        timers.now = batch * 100
        values = [b"2024 line"] + ([filebeat("2024 other", "h", "/f")] if batch == 0 else [])
        joining.on_batch(records(values, batch * 10), FakeContext(timers))
        # Each batch registers again, whether or not an earlier registration is still pending: none
        # is trusted to fire (a registration that never fired once held a partition's last line).
        assert set(timer_times(batch * 100 + TIMEOUT)) <= timers.processing
    assert timers.event == {END_OF_INPUT}

    timers.processing.clear()
    timers.now = TIMEOUT
    recs, joined = joining.on_timer(TIMEOUT, FakeContext(timers, TimeDomain.PROCESSING_TIME))
    # The other stream went quiet at 0: flushed; the busy one is due at 400 + timeout and armed.
    assert [r[3] for r in recs] == [1] and list(joined) == [("logs", 0, 1)]
    assert timers.processing == set(timer_times(400 + TIMEOUT))

    timers.processing.clear()
    timers.now = TIMEOUT + 200  # a backup or grid timer before the deadline: nothing due, re-armed
    recs, _ = joining.on_timer(TIMEOUT + 200, FakeContext(timers, TimeDomain.PROCESSING_TIME))
    assert recs == [] and timers.processing == set(timer_times(400 + TIMEOUT))

    recs, _ = joining.on_timer(TIMEOUT + 400, FakeContext(timers, TimeDomain.EVENT_TIME))
    assert [r[3] for r in recs] == [40] and state.data == {}


def test_a_quiet_key_s_last_line_is_flushed_by_the_backup_when_the_first_timer_never_fires() -> None:
    from pyflink.datastream import TimeDomain

    from jobs.operators.multiline_state import timer_times

    joining, state = _keyed_joining()
    timers = FakeTimers()
    joining.on_batch(records([b"2024 last line"], 7), FakeContext(timers))
    first, backup = timer_times(TIMEOUT)
    assert timers.processing == {first, backup}
    timers.now = backup  # the first registration was lost: only the backup fires
    recs, _ = joining.on_timer(backup, FakeContext(timers, TimeDomain.PROCESSING_TIME))
    assert [r[3] for r in recs] == [7] and state.data == {}
