"""The format registry: every format is registered through the one interface, detect.py's dispatch is
what the registry generates, and a new format is one module plus one registration, tried where and in
the order its entries ask for."""

from __future__ import annotations

import pkgutil
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

import common.parsing.formats as formats_package
from common.parsing import detect
from common.parsing.context import Context
from common.parsing.format import UPPER, AfterStamp, Format, Line
from common.parsing.formats import generate, registry
from common.parsing.options import ParseOptions

NOW = 1_700_000_000.0
SYSLOG_LINE = "Jun 14 15:16:01 combo sshd[19939]: authentication failure"
JOURNALD_FULL_LINE = "Tue 2023-11-21 02:48:00 UTC node1 systemd[1]: Started x."


def test_detect_py_is_what_the_registry_generates() -> None:
    source = generate.DETECT.read_text()
    assert generate.render(source, registry.modules()) == source, (
        "detect.py is stale: run python -m common.parsing.formats.generate"
    )


def test_every_format_module_is_registered_once_with_a_format() -> None:
    modules = {info.name for info in pkgutil.iter_modules(formats_package.__path__)}
    # stacktrace is no line format: the multi-line path reads traces from a message's other lines.
    assert sorted(modules - {"registry", "generate", "stacktrace"}) == sorted(registry.REGISTERED)
    assert len(set(registry.REGISTERED)) == len(registry.REGISTERED)
    for module in registry.modules():
        fmt = module.FORMAT
        assert isinstance(fmt, Format) and fmt.entries and fmt.datasets, module.__name__


def test_every_place_has_its_candidates_in_priority_order() -> None:
    places = generate.candidates(registry.modules())
    for found in places.values():
        assert [c.priority for c in found] == sorted(c.priority for c in found)
    # Every line shape and every follower of a stamp ends in a parser that takes anything.
    assert [c.label for c in places[("stamp", " ")]][-1] == "generic"


# --- a toy format, registered in a fresh registry -------------------------------------------------


def _toy_parse(text: str, ctx: Context) -> dict[str, Any] | None:
    return {"message": text, "event": {"dataset": "toy"}}


def _toy_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    return {"@timestamp": ts, "message": rest[6:], "event": {"dataset": "toy"}}


def _toy_module(*entries: Line | AfterStamp) -> types.ModuleType:
    module = types.ModuleType("toy_format")
    module._toy_parse = _toy_parse  # type: ignore[attr-defined]
    module._toy_tail = _toy_tail  # type: ignore[attr-defined]
    module._TOY_WORD = "TOY:"  # type: ignore[attr-defined]
    module.FORMAT = Format("toy", ("toy",), entries)  # type: ignore[attr-defined]
    return module


@pytest.fixture
def detect_with() -> Iterator[Any]:
    """Build detection from the registry plus a toy format (at a given place in the list) and run it."""
    added: list[str] = []

    def build(toy: types.ModuleType, before: str | None = None) -> Any:
        sys.modules[toy.__name__] = toy
        added.append(toy.__name__)
        names = list(registry.REGISTERED)
        found = registry.modules(tuple(names))
        at = names.index(before) if before is not None else len(found)
        source = generate.render(generate.DETECT.read_text(), [*found[:at], toy, *found[at:]])
        module = types.ModuleType(f"toy_detect_{len(added)}")
        exec(compile(source, "<generated detect>", "exec"), module.__dict__)
        ctx = Context(ParseOptions(clock=lambda: NOW), NOW)
        return lambda line: module.parse_known(line, ctx)

    yield build
    for name in added:
        sys.modules.pop(name, None)


def _dataset(rec: dict[str, Any] | None) -> str | None:
    return None if rec is None else rec["event"]["dataset"]


def test_a_new_format_is_tried_where_its_priority_puts_it(detect_with: Any) -> None:
    ctx = Context(ParseOptions(clock=lambda: NOW), NOW)
    assert _dataset(detect.parse_known(SYSLOG_LINE, ctx)) == "syslog"
    assert detect.parse_known("Hello there", ctx) is None

    first = detect_with(_toy_module(Line(_toy_parse, UPPER, 5)))
    assert _dataset(first(SYSLOG_LINE)) == "toy"  # before syslog (30): it takes the line

    last = detect_with(_toy_module(Line(_toy_parse, UPPER, 1000)))
    assert _dataset(last(SYSLOG_LINE)) == "syslog"  # after every other upper-case candidate
    assert _dataset(last("Hello there")) == "toy"  # what nothing else takes
    assert _dataset(last("hello there")) is None  # a lower-case line is not its place


def test_equal_priorities_go_in_registry_order(detect_with: Any) -> None:
    tied = Line(_toy_parse, UPPER, 35)  # journald's short-full has 35 too
    assert _dataset(detect_with(_toy_module(tied))(JOURNALD_FULL_LINE)) == "journald"
    assert _dataset(detect_with(_toy_module(tied), before="journald")(JOURNALD_FULL_LINE)) == "toy"


def test_a_new_format_after_a_stamp_gets_the_stamp_read_once(detect_with: Any) -> None:
    toy = _toy_module(AfterStamp(_toy_tail, " ", 5, claims="rest[1:5] == _TOY_WORD"))
    parse = detect_with(toy)
    rec = parse("2024-03-14 10:21:33.5 TOY: hello")
    assert rec == {"@timestamp": "2024-03-14T10:21:33.500Z", "message": "hello", "event": {"dataset": "toy"}}
    assert _dataset(parse("2024-03-14 10:21:33.5 INFO hello")) == "generic"


def test_a_new_first_character_gets_its_own_place(detect_with: Any) -> None:
    parse = detect_with(_toy_module(Line(_toy_parse, "#", 10, claims='text[1:2] == " "')))
    assert _dataset(parse("# a comment")) == "toy"
    assert parse("#nope") is None


def test_claims_may_name_only_the_place_s_variables_and_the_module_s_names() -> None:
    toy = _toy_module(Line(_toy_parse, UPPER, 10, claims="undefined_name in text"))
    with pytest.raises(generate.RegistryError, match="undefined_name"):
        generate.candidates([toy])
    toy = _toy_module(Line(_toy_parse, "a", 10))
    with pytest.raises(generate.RegistryError, match="place"):
        generate.candidates([toy])
    toy = _toy_module(Line("_no_such_step", UPPER, 10))
    with pytest.raises(generate.RegistryError, match="_no_such_step"):
        generate.render(generate.DETECT.read_text(), [toy])
