"""Per-fingerprint bookkeeping (first sight, regression, counts) and the Redis contract's pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from common.errors.groups import (
    ALERT_RULE_ID,
    REASON_NEW,
    REASON_REGRESSION,
    GroupState,
    alert_record,
    close_windows,
    count_sighting,
    observe,
    record_time,
    sighting_of,
    write_commands,
)
from common.errors.settings import DEFAULT_REGRESSION_SECONDS, ErrorGroupSettings
from common.schema.alert import alert_document
from common.schema.error_groups import (
    MAX_SCAN,
    ErrorGroup,
    ErrorGroupKeys,
    ErrorSighting,
    candidates_query,
    expired_query,
    group_commands,
    groups_from_replies,
    iso,
    records_link,
    select,
    trim_commands,
    window_count_commands,
    window_counts,
)

T0 = 1_700_000_000.0
QUIET = 3600
WINDOW_S = 60
KEYS = ErrorGroupKeys("logflow:stats", WINDOW_S)


def record(at: float, fingerprint: str = "0123456789abcdef", **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "@timestamp": iso(at),
        "message": f"order {int(at)} failed",
        "log": {"level": "error"},
        "event": {"dataset": "log4j", "ingested": "2030-01-01T00:00:00.000Z"},
        "host": {"name": "web-1"},
        "service": {"name": "shop"},
        "error": {"fingerprint": fingerprint, "type": "java.lang.IllegalStateException"},
    }
    rec.update(extra)
    return rec


def sighting(
    at: float, fingerprint: str = "0123456789abcdef", late: bool = False, **extra: Any
) -> ErrorSighting:
    """The sighting of ``record(at)``, read from Kafka with the timestamp ``at``."""
    found = sighting_of(record(at, fingerprint, **extra), f"logs:0:{int(at)}", int(at * 1000), late)
    assert found is not None
    return found


def feed(times: list[float]) -> tuple[ErrorGroup, list[str | None]]:
    state: ErrorGroup | None = None
    reasons: list[str | None] = []
    for at in times:
        state, reason = observe(state, sighting(at), QUIET)
        reasons.append(reason)
    assert state is not None
    return state, reasons


def test_first_sight_alerts_once_and_keeps_the_first_sample() -> None:
    group, reasons = feed([T0, T0 + 5, T0 + 10])
    assert reasons == [REASON_NEW, None, None]
    assert (group.count, group.first_seen, group.last_seen) == (3, T0, T0 + 10)
    assert (group.message, group.type, group.dataset, group.host, group.service) == (
        f"order {int(T0)} failed",
        "java.lang.IllegalStateException",
        "log4j",
        "web-1",
        "shop",
    )


def test_a_group_back_after_the_quiet_period_is_a_regression() -> None:
    group, reasons = feed([T0, T0 + QUIET - 1, T0 + 2 * QUIET, T0 + 2 * QUIET + 1])
    assert reasons == [REASON_NEW, None, REASON_REGRESSION, None]
    assert group.count == 4


def test_out_of_order_records_widen_the_span_without_a_regression() -> None:
    group, reasons = feed([T0 + 100, T0, T0 + 50])
    assert reasons == [REASON_NEW, None, None]
    assert (group.first_seen, group.last_seen, group.count) == (T0, T0 + 100, 3)


def test_only_a_record_with_a_fingerprint_is_a_sighting() -> None:
    assert sighting_of({"message": "x"}, "logs:0:1", 0, False) is None
    assert sighting_of(record(T0, fingerprint=""), "logs:0:1", 0, False) is None
    ruled = sighting_of(record(T0, fingerprint=42), "logs:0:1", 0, False)  # type: ignore[arg-type]
    assert ruled is not None and ruled.fingerprint == "42"


def test_event_time_is_the_timestamp_unless_the_parser_made_it_up() -> None:
    rec = record(T0)
    assert record_time(rec, 5.0) == T0
    # A line without a time got the parse time, which a replay would not repeat: the Kafka time counts.
    rec["@timestamp"] = rec["event"]["ingested"]
    assert record_time(rec, 5.0) == 5.0
    assert sighting_of(rec, "logs:0:1", 7000, False).at == 7.0  # type: ignore[union-attr]
    assert record_time({}, 5.0) == 5.0


def test_the_alert_record_has_the_rules_alert_shape_and_says_why() -> None:
    seen = sighting(T0)
    group, reason = observe(None, seen, QUIET)
    assert reason is not None
    alert = alert_record(group, reason, seen)
    assert alert["event"]["kind"] == "alert" and alert["event"]["reason"] == "new error group"
    assert alert["rule"] == {"id": ALERT_RULE_ID}
    assert alert["error"] == {"fingerprint": "0123456789abcdef", "type": "java.lang.IllegalStateException"}
    assert alert["alert"]["group"] == {"error.fingerprint": "0123456789abcdef"}
    assert alert["alert"]["count"] == 1 and alert["alert"]["severity"] == "high"
    assert alert["message"] == "new error group: java.lang.IllegalStateException"
    assert alert["@timestamp"] == iso(T0) and alert["event"]["dataset"] == "log4j"
    assert alert["host"] == {"name": "web-1"} and alert["service"] == {"name": "shop"}


def test_an_alert_message_is_the_errors_text_not_a_template() -> None:
    seen = sighting(T0, error={"fingerprint": "f"}, message="no such key {message} in {host.name}")
    group, reason = observe(None, seen, QUIET)
    assert (
        alert_record(group, reason or "", seen)["message"]
        == "new error group: no such key {message} in {host.name}"
    )


def test_the_published_alert_has_a_numeric_ecs_severity_and_keeps_the_word() -> None:
    seen = sighting(T0)
    group, reason = observe(None, seen, QUIET)
    published = alert_document(alert_record(group, reason or "", seen), "id-1")
    assert published["event"]["severity"] == 73 and published["alert"]["severity"] == "high"
    assert published["event"]["id"] == "id-1" and published["event"]["dataset"] == "logflow.alert"
    assert published["labels"] == {"source_dataset": "log4j"}


# ---- the keyed state of one fingerprint ----------------------------------------------------


def test_keyed_state_counts_the_group_and_its_window_and_announces_first_sight_once() -> None:
    state = GroupState()
    first = count_sighting(state, sighting(T0), QUIET, WINDOW_S)
    assert first is not None and first.alert_id == "error-group:0123456789abcdef:new"
    assert first.alert["event"]["reason"] == REASON_NEW and first.ts_ms == int(T0 * 1000)
    assert count_sighting(state, sighting(T0 + 1), QUIET, WINDOW_S) is None
    assert count_sighting(state, sighting(T0 + 70), QUIET, WINDOW_S) is None
    assert state.group is not None and state.group.count == 3 and state.dirty
    start = int(T0) - int(T0) % WINDOW_S
    assert state.windows == {start: 2, start + WINDOW_S: 1}


def test_a_late_sighting_counts_in_the_group_but_not_in_a_window() -> None:
    state = GroupState()
    count_sighting(state, sighting(T0, late=True), QUIET, WINDOW_S)
    assert state.group is not None and state.group.count == 1 and state.windows == {}


def test_a_regression_alert_is_named_after_the_silence_it_ends_whatever_the_order() -> None:
    """Two partitions' records can interleave differently when read again: same alert either way."""
    before, back, almost_back = sighting(T0), sighting(T0 + 2 * QUIET), sighting(T0 + 2 * QUIET - 1)
    ids = []
    for order in ([before, back, almost_back], [before, almost_back, back]):
        state = GroupState()
        raised = [count_sighting(state, s, QUIET, WINDOW_S) for s in order]
        ids.append([a.alert_id for a in raised if a is not None])
    assert (
        ids[0]
        == ids[1]
        == [
            "error-group:0123456789abcdef:new",
            f"error-group:0123456789abcdef:regression:{int(T0 * 1000)}",
        ]
    )


def test_any_interleaving_of_the_same_records_gives_the_same_group_and_writes() -> None:
    """Partitions interleave differently when read again: the sample is the earliest record's."""
    earliest = sighting(T0, message="first")._replace(doc_id="logs:1:5")
    tied = sighting(T0, message="tied")._replace(doc_id="logs:0:9")
    later = sighting(T0 + 30, message="later")
    results = []
    for order in ([later, earliest, tied], [tied, later, earliest], [earliest, tied, later]):
        state = GroupState()
        for seen in order:
            count_sighting(state, seen, QUIET, WINDOW_S)
        results.append(write_commands(state, KEYS, 600))
        assert state.group is not None and state.group.message == "tied"  # same time: the least id
    assert results[0] == results[1] == results[2]


def test_state_round_trips_through_its_json() -> None:
    state = GroupState()
    for at in (T0, T0 + 61.5):
        count_sighting(state, sighting(at), QUIET, WINDOW_S)
    state.closed_through = 120
    assert GroupState.from_json(state.to_json()) == state
    assert GroupState.from_json(None) == GroupState()


def test_write_commands_set_the_group_and_its_open_windows_absolutely() -> None:
    state = GroupState()
    for at in (T0, T0 + 1, T0 + 61):
        count_sighting(state, sighting(at), QUIET, WINDOW_S)
    commands = write_commands(state, KEYS, 600)
    assert not state.dirty
    assert state.group is not None
    start = int(T0) - int(T0) % WINDOW_S
    assert commands == [
        *group_commands(KEYS, state.group, 600),
        ("HSET", KEYS.window(start), "0123456789abcdef", 2),
        ("EXPIRE", KEYS.window(start), 600),
        ("HSET", KEYS.window(start + 60), "0123456789abcdef", 1),
        ("EXPIRE", KEYS.window(start + 60), 600),
    ]
    assert not any(str(command[0]).startswith(("HINCR", "ZINCR")) for command in commands)


def test_reading_again_from_a_checkpoint_writes_the_same_values() -> None:
    """A failure after some writes: the restored state and the replayed records give the same commands."""
    times = [T0 + i * 7.0 for i in range(20)]
    checkpointed = GroupState()
    for at in times[:8]:
        count_sighting(checkpointed, sighting(at), QUIET, WINDOW_S)
    saved = checkpointed.to_json()

    first_run = GroupState.from_json(saved)
    for at in times[8:15]:
        count_sighting(first_run, sighting(at), QUIET, WINDOW_S)
    write_commands(first_run, KEYS, 600)  # written, then the TaskManager dies
    for at in times[15:]:
        count_sighting(first_run, sighting(at), QUIET, WINDOW_S)
    final_first = write_commands(first_run, KEYS, 600)

    replay = GroupState.from_json(saved)
    alerts = [count_sighting(replay, sighting(at), QUIET, WINDOW_S) for at in times[8:]]
    assert alerts == [None] * 12  # the group was known at the checkpoint: no second new-group alert
    assert write_commands(replay, KEYS, 600) == final_first
    assert replay.group is not None and replay.group.count == 20


def test_closing_a_window_writes_it_first_and_then_never_restarts_it() -> None:
    state = GroupState()
    start = int(T0) - int(T0) % WINDOW_S
    count_sighting(state, sighting(start + 1.0), QUIET, WINDOW_S)
    count_sighting(state, sighting(start + 61.0), QUIET, WINDOW_S)
    end_ms = (start + WINDOW_S) * 1000
    assert close_windows(state, end_ms - 2, WINDOW_S, KEYS, 600) == []
    commands = close_windows(state, end_ms - 1, WINDOW_S, KEYS, 600)
    assert ("HSET", KEYS.window(start), "0123456789abcdef", 1) in commands
    assert state.windows == {start + WINDOW_S: 1} and state.closed_through == start and not state.dirty
    # Nothing unwritten: closing the next one writes nothing.
    assert close_windows(state, end_ms + WINDOW_S * 1000, WINDOW_S, KEYS, 600) == []
    # A sighting for a closed window counts in the group only: its written count stays.
    count_sighting(state, sighting(start + 2.0), QUIET, WINDOW_S)
    assert state.windows == {} and state.group is not None and state.group.count == 3


def test_settings_default_and_from_the_environment() -> None:
    assert ErrorGroupSettings.from_env({}).regression_seconds == DEFAULT_REGRESSION_SECONDS == 86400
    env = {
        "LOGFLOW_ERRORS_REGRESSION_SECONDS": "600",
        "LOGFLOW_STATS_PREFIX": "p",
        "LOGFLOW_WINDOW_SECONDS": "10",
    }
    settings = ErrorGroupSettings.from_env(env)
    assert (settings.regression_seconds, settings.stats_prefix, settings.window_seconds) == (600, "p", 10)
    with pytest.raises(ValueError):
        ErrorGroupSettings.from_env({"LOGFLOW_ERRORS_REGRESSION_SECONDS": "soon"})


# ---- the Redis contract --------------------------------------------------------------------

GROUP = ErrorGroup("0123456789abcdef", 7, T0, T0 + 90, "order 1 failed", "X", "log4j", "web-1", "shop", "")


def test_key_names() -> None:
    assert KEYS.group("ab") == "logflow:stats:errors:group:ab"
    assert KEYS.by_last_seen == "logflow:stats:errors:by_last_seen"
    assert KEYS.by_count == "logflow:stats:errors:by_count"
    assert KEYS.window(1_700_000_040) == "logflow:stats:60s:1700000040:error"


def test_group_commands_set_absolute_values_with_ttls() -> None:
    commands = group_commands(KEYS, GROUP, ttl_seconds=600)
    hset = commands[0]
    assert hset[:2] == ("HSET", KEYS.group(GROUP.fingerprint))
    fields = dict(zip(hset[2::2], hset[3::2], strict=True))
    assert fields["count"] == "7" and fields["first_seen"] == "2023-11-14T22:13:20.000Z"
    assert commands[1:] == [
        ("EXPIRE", KEYS.group(GROUP.fingerprint), 600),
        ("ZADD", KEYS.by_last_seen, T0 + 90, GROUP.fingerprint),
        ("ZADD", KEYS.by_count, 7, GROUP.fingerprint),
        ("EXPIRE", KEYS.by_last_seen, 600),
        ("EXPIRE", KEYS.by_count, 600),
    ]
    # what was written reads back as the same group
    assert groups_from_replies([GROUP.fingerprint], [{str(k): str(v) for k, v in fields.items()}]) == [GROUP]


def test_window_count_commands_set_one_fingerprints_count() -> None:
    assert window_count_commands(KEYS, 60, "a", 5, 600) == [
        ("HSET", KEYS.window(60), "a", 5),
        ("EXPIRE", KEYS.window(60), 600),
    ]
    assert window_counts({"a": "5", "b": "x"}) == {"a": 5}


def test_trimming_and_reading_queries() -> None:
    assert expired_query(KEYS, 1000.0, 100) == ("ZRANGEBYSCORE", KEYS.by_last_seen, "-inf", "(900.0")
    assert trim_commands(KEYS, 1000.0, 100, ["x", "y"]) == [
        ("ZREM", KEYS.by_count, "x", "y"),
        ("ZREMRANGEBYSCORE", KEYS.by_last_seen, "-inf", "(900.0"),
    ]
    assert candidates_query(KEYS, 5.0) == (
        "ZREVRANGEBYSCORE",
        KEYS.by_last_seen,
        "+inf",
        5.0,
        "LIMIT",
        0,
        MAX_SCAN,
    )


def test_expired_or_broken_hashes_are_left_out() -> None:
    assert groups_from_replies(["a", "b", "c"], [{}, {"count": "x"}, {"count": "1", "first_seen": "?"}]) == []


def test_select_filters_and_orders() -> None:
    a = ErrorGroup("a", 10, 0.0, 100.0)
    b = ErrorGroup("b", 50, 80.0, 90.0)
    c = ErrorGroup("c", 5, 95.0, 99.0)
    assert [g.fingerprint for g in select([a, b, c], since_epoch=85.0)] == ["a", "c", "b"]
    assert [g.fingerprint for g in select([a, b, c], since_epoch=85.0, order="count")] == ["b", "a", "c"]
    assert [g.fingerprint for g in select([a, b, c], since_epoch=85.0, new_only=True)] == ["c"]
    assert [g.fingerprint for g in select([a, b, c], since_epoch=95.0, limit=1)] == ["a"]
    with pytest.raises(ValueError):
        select([a], since_epoch=0.0, order="name")


def test_records_link_is_a_term_query_on_the_fingerprint() -> None:
    link = records_link('odd "one"', "logs", "http://127.0.0.1:9200/,http://other:9200")
    assert link["index"] == "logs-*,-logs-logflow.alert-*"
    assert link["query"]["query"] == {"term": {"error.fingerprint": 'odd "one"'}}
    assert link["search_url"] == (
        "http://127.0.0.1:9200/logs-*,-logs-logflow.alert-*/_search?q=error.fingerprint%3A%22odd%20%5C%22one%5C%22%22&sort=@timestamp:desc"
    )
