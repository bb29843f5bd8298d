"""The built-in rule sets on real-shaped traces: each trace is one event, its neighbours stay apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.multiline import JoinedEvent, JoinRule, StreamLine, join_all, parse_config

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "multiline"
SAMPLES = REPO / "deploy" / "samples" / "multiline"


def lines_of(path: Path, topic: str = "logs", source: str = "") -> list[StreamLine]:
    texts = path.read_text(encoding="utf-8").split("\n")
    if texts[-1] == "":
        texts.pop()
    return [StreamLine(topic, 0, offset, 1_000 + offset, source, text) for offset, text in enumerate(texts)]


def join(lines: list[StreamLine], builtin: str = "auto") -> list[JoinedEvent]:
    rule = JoinRule(builtin, builtin=builtin)
    return list(join_all(lines, lambda topic, source: rule))


def shape(events: list[JoinedEvent]) -> list[tuple[int, int]]:
    """(first offset, line count) per event: where each event starts and how long it is."""
    return [(event.first_offset, event.line_count) for event in events]


# (fixture, built-in rule set that is meant for it, expected (first offset, line count) per event)
CASES = [
    ("java-caused-by.log", "java", [(0, 1), (1, 18), (19, 1), (20, 3), (23, 1)]),
    ("python-chained.log", "python", [(0, 1), (1, 24), (25, 1), (26, 4), (30, 1)]),
    ("go-panic.log", "go", [(0, 1), (1, 1), (2, 19), (21, 1)]),
    ("dotnet-inner.log", "dotnet", [(0, 1), (1, 11), (12, 1)]),
    ("node-error.log", "node", [(0, 1), (1, 6), (7, 1), (8, 2), (10, 1)]),
]


@pytest.mark.parametrize(("fixture", "builtin", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_trace_is_one_event_with_auto_and_its_own_rule_set(
    fixture: str, builtin: str, expected: list[tuple[int, int]]
) -> None:
    lines = lines_of(FIXTURES / fixture)
    assert shape(join(lines, "auto")) == expected
    assert shape(join(lines, builtin)) == expected


def test_joined_text_is_the_lines_in_order_and_offsets_count_bytes_are_consistent() -> None:
    lines = lines_of(FIXTURES / "java-caused-by.log")
    events = join(lines)
    trace = events[1]
    assert trace.text == "\n".join(line.text for line in lines[1:19])
    assert trace.offsets == tuple(range(1, 19))
    assert trace.timestamp_ms == lines[1].timestamp_ms
    assert trace.byte_size == len(trace.text.encode("utf-8"))
    assert trace.text.splitlines()[2].startswith("\tat org.springframework")
    assert "Caused by: org.postgresql.util.PSQLException" in trace.text
    assert trace.text.endswith("\t... 30 more")
    assert not trace.truncated and not trace.continued


def test_python_chain_keeps_blank_lines_inside_and_ends_at_the_final_exception_line() -> None:
    events = join(lines_of(FIXTURES / "python-chained.log"))
    trace = events[1].text.split("\n")
    assert trace[1] == "Traceback (most recent call last):"
    assert trace.count("Traceback (most recent call last):") == 3
    assert "" in trace  # the blank lines around "During handling of the above exception..."
    assert trace[-1] == "RuntimeError: sync_customers gave up after 3 attempts"


def test_go_panic_spans_goroutines_and_trailing_blank_lines_are_dropped() -> None:
    lines = lines_of(FIXTURES / "go-panic.log")
    # A quiet stream after the panic: the trace's trailing blank line is not part of its text.
    cut = [*lines[:21], StreamLine("logs", 0, 21, 1_021, "", "")]
    events = join(cut)
    panic = events[-1]
    assert panic.first_offset == 2
    assert panic.offsets[-1] == 21  # the blank message was consumed ...
    assert panic.text.endswith("exit status 2")  # ... but is not in the text
    assert panic.byte_size == len(panic.text.encode())
    assert "goroutine 1 [IO wait]:" in panic.text


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.log")))
def test_samples_are_one_event_each(sample: str) -> None:
    lines = lines_of(SAMPLES / sample)
    events = join(lines)
    assert len(events) == 1
    assert events[0].line_count == len(lines)


def test_a_complete_single_line_event_does_not_swallow_the_next_one() -> None:
    texts = [
        "2024-03-02 14:00:00,000 INFO app: started",
        "2024-03-02 14:00:01,000 INFO app: ready",
        '{"level":"error","msg":"boom"}',
        "Mar  2 14:00:02 web-1 sshd[42]: Accepted publickey for deploy",
        "java.lang.IllegalStateException: not after an error header",
        "KeyError: 'x'",
        "<13>1 2024-03-02T14:00:03Z web-1 app - - - hello",
    ]
    lines = [StreamLine("logs", 0, i, 0, "", t) for i, t in enumerate(texts)]
    assert shape(join(lines)) == [(i, 1) for i in range(len(texts))]


def test_traceback_after_an_info_line_starts_its_own_event() -> None:
    texts = [
        "2024-03-02 14:00:00 INFO app: polling",
        "Traceback (most recent call last):",
        '  File "a.py", line 1',
        "ValueError: x",
    ]
    lines = [StreamLine("logs", 0, i, 0, "", t) for i, t in enumerate(texts)]
    assert shape(join(lines)) == [(0, 1), (1, 3)]


def test_none_never_joins_and_indent_joins_only_indented_lines() -> None:
    lines = lines_of(FIXTURES / "java-caused-by.log")
    assert shape(join(lines, "none")) == [(i, 1) for i in range(len(lines))]
    indent = shape(join(lines, "indent"))
    # "Caused by:" at column 0 is not indented: the indent rule splits the chain there.
    assert indent[1:5] == [(1, 1), (2, 8), (10, 4), (14, 5)]


def test_default_config_uses_auto() -> None:
    config = parse_config({})
    assert config.rule_for("any", "").builtin == "auto"


MORE_SHAPES = {
    "python exception group after a warning": [
        "2024-03-02 14:08:00,245 WARNING worker: batch partly failed",
        "  + Exception Group Traceback (most recent call last):",
        '  |   File "/app/worker/batch.py", line 40, in run',
        "  |     raise ExceptionGroup('batch', errors)",
        "  | ExceptionGroup: batch (2 sub-exceptions)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: row 1",
        "    +------------------------------------",
    ],
    "log4j2 frames with jar info": [
        "14:07:31.530 [main] ERROR org.example.App - startup failed",
        "java.lang.IllegalArgumentException: bad port",
        "\tat org.example.App.start(App.java:12) ~[app.jar:?]",
        "\tat org.example.App.main(App.java:5) [app.jar:?]",
    ],
    "python logging basicConfig header": [
        "ERROR:root:could not load config",
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 3, in <module>',
        "FileNotFoundError: [Errno 2] No such file or directory: 'config.yaml'",
    ],
    "go fatal error": [
        "fatal error: concurrent map writes",
        "",
        "goroutine 7 [running]:",
        "main.worker(0xc000012345)",
        "\t/src/main.go:21 +0x45",
        "created by main.main in goroutine 1",
        "\t/src/main.go:30 +0x5d",
    ],
}


@pytest.mark.parametrize("name", sorted(MORE_SHAPES))
def test_more_trace_shapes_are_one_event_between_log_lines(name: str) -> None:
    texts = [
        "2024-03-02 14:00:00,000 INFO app: before",
        *MORE_SHAPES[name],
        "2024-03-02 14:00:09,000 INFO app: after",
    ]
    lines = [StreamLine("logs", 0, i, 0, "", t) for i, t in enumerate(texts)]
    assert shape(join(lines)) == [(0, 1), (1, len(MORE_SHAPES[name])), (len(texts) - 1, 1)]
