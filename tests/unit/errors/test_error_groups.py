"""Per-fingerprint bookkeeping (first sight, regression, counts) and the Redis contract's pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from common.errors.groups import (
    ALERT_RULE_ID,
    REASON_NEW,
    REASON_REGRESSION,
    alert_record,
    observe,
    record_time,
)
from common.errors.settings import DEFAULT_REGRESSION_SECONDS, ErrorGroupSettings
from common.schema.error_groups import (
    MAX_SCAN,
    ErrorGroup,
    ErrorGroupKeys,
    candidates_query,
    expired_query,
    group_commands,
    groups_from_replies,
    records_link,
    select,
    trim_commands,
    window_commands,
    window_counts,
)

T0 = 1_700_000_000.0
QUIET = 3600


def record(at: float, fingerprint: str = "0123456789abcdef", **extra: Any) -> dict[str, Any]:
    from common.schema.error_groups import iso

    rec: dict[str, Any] = {
        "@timestamp": iso(at),
        "message": f"order {int(at)} failed",
        "log": {"level": "error"},
        "event": {"dataset": "log4j"},
        "host": {"name": "web-1"},
        "service": {"name": "shop"},
        "error": {"fingerprint": fingerprint, "type": "java.lang.IllegalStateException"},
    }
    rec.update(extra)
    return rec


def feed(times: list[float]) -> tuple[ErrorGroup, list[str | None]]:
    state: ErrorGroup | None = None
    reasons: list[str | None] = []
    for at in times:
        rec = record(at)
        state, reason = observe(state, rec, record_time(rec, 0.0), QUIET)
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


def test_a_record_without_a_fingerprint_cannot_start_a_group() -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        observe(None, {"message": "x"}, T0, QUIET)


def test_the_alert_record_has_the_rules_alert_shape_and_says_why() -> None:
    rec = record(T0)
    group, reason = observe(None, rec, T0, QUIET)
    assert reason is not None
    alert = alert_record(group, reason, rec)
    assert alert["event"]["kind"] == "alert" and alert["event"]["reason"] == "new error group"
    assert alert["rule"] == {"id": ALERT_RULE_ID}
    assert alert["error"] == {"fingerprint": "0123456789abcdef", "type": "java.lang.IllegalStateException"}
    assert alert["alert"]["group"] == {"error.fingerprint": "0123456789abcdef"}
    assert alert["alert"]["count"] == 1 and alert["alert"]["severity"] == "high"
    assert alert["message"] == "new error group: java.lang.IllegalStateException"
    assert alert["@timestamp"] == rec["@timestamp"] and alert["event"]["dataset"] == "log4j"


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

KEYS = ErrorGroupKeys("logflow:stats", 60)
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


def test_window_commands_replace_the_window_hash() -> None:
    assert window_commands(KEYS, 60, {"b": 2, "a": 5}, 600) == [
        ("DEL", KEYS.window(60)),
        ("HSET", KEYS.window(60), "a", 5, "b", 2),
        ("EXPIRE", KEYS.window(60), 600),
    ]
    assert window_commands(KEYS, 60, {}, 600) == [("DEL", KEYS.window(60))]
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
    assert link["index"] == "logs-*"
    assert link["query"]["query"] == {"term": {"error.fingerprint": 'odd "one"'}}
    assert link["search_url"] == (
        "http://127.0.0.1:9200/logs-*/_search?q=error.fingerprint%3A%22odd%20%5C%22one%5C%22%22&sort=@timestamp:desc"
    )
