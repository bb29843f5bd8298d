"""Retention's pure part: which names are logflow's daily indices, and which days are past it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from common.schema.alert import ALERT_DATASET
from jobs.retention.config import DEFAULT_DAYS, RetentionConfig, parse_days
from jobs.retention.policy import (
    DailyIndex,
    RetentionError,
    oldest_kept_day,
    parse_index,
    parse_interval,
    select_expired,
)
from jobs.sinks.elasticsearch.request_builder import index_name

NOW = datetime(2026, 12, 4, 20, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "dataset", "day"),
    [
        ("logs-syslog-2026.12.04", "syslog", date(2026, 12, 4)),
        ("logs-nginx.access-2020.01.01", "nginx.access", date(2020, 1, 1)),
        ("logs-logflow.alert-2026.02.28", "logflow.alert", date(2026, 2, 28)),
        ("logs-k8s-audit-2024.02.29", "k8s-audit", date(2024, 2, 29)),
        ("logs-a_b-c.d-e-1999.12.31", "a_b-c.d-e", date(1999, 12, 31)),
        # A dataset that itself ends in something date-like still splits at the final date.
        ("logs-x-2020.01.01-2021.02.03", "x-2020.01.01", date(2021, 2, 3)),
    ],
)
def test_logflow_names_parse_into_dataset_and_day(name: str, dataset: str, day: date) -> None:
    assert parse_index("logs", name) == DailyIndex(day, dataset, name)


@pytest.mark.parametrize(
    "name",
    [
        "logsearch-2020.01.01",  # another prefix that starts with ours
        "logsearch-x-2020.01.01",
        "logs2-x-2020.01.01",
        "logs_x-2020.01.01",
        "logs-2020.01.01",  # no dataset
        "logs--2020.01.01",  # empty dataset
        "logs-.hidden-2020.01.01",  # the job strips leading dots from datasets
        "logs-nginx.access",  # no date
        "logs-nginx.access-2020.1.1",
        "logs-nginx.access-2020-01-01",
        "logs-nginx.access-20200101",
        "logs-nginx.access-2020.02.30",  # not a calendar date
        "logs-nginx.access-2020.13.01",
        "logs-nginx.access-2020.01.01-000001",  # rollover style
        "logs-nginx.access-2020.01.01.bak",
        "logs-Nginx-2020.01.01",  # the job lower-cases datasets
        "xlogs-nginx-2020.01.01",
        ".ds-logs-nginx-2020.01.01-000001",
        "logs-" + "a" * 101 + "-2020.01.01",  # datasets are cut at 100 characters
        "",
    ],
)
def test_names_that_are_not_logflow_daily_indices_do_not_parse(name: str) -> None:
    assert parse_index("logs", name) is None


def test_every_name_the_job_writes_parses_back() -> None:
    ts_ms = int(datetime(2025, 7, 9, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)
    for dataset in ("nginx.access", ALERT_DATASET, "Weird Dataset!", "-._lead", "", "x" * 300):
        name = index_name("lf.prefix_1", dataset, ts_ms)
        parsed = parse_index("lf.prefix_1", name)
        assert parsed is not None, name
        assert parsed.day == date(2025, 7, 9)


def test_a_prefix_with_regex_characters_is_matched_literally() -> None:
    assert parse_index("a.b", "a.b-x-2020.01.01") is not None
    assert parse_index("a.b", "axb-x-2020.01.01") is None


@pytest.mark.parametrize("prefix", ["logs-*", "logs,other", "*", "_all", "Logs", "", "-logs", "lo gs"])
def test_prefixes_that_could_widen_an_index_expression_are_refused(prefix: str) -> None:
    with pytest.raises(RetentionError, match="LOGFLOW_INDEX_PREFIX"):
        parse_index(prefix, "logs-x-2020.01.01")


def test_oldest_kept_day_counts_whole_utc_days() -> None:
    assert oldest_kept_day(NOW, 30) == date(2026, 11, 4)
    assert oldest_kept_day(NOW, 1) == date(2026, 12, 3)
    assert oldest_kept_day(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 1) == date(2026, 2, 28)
    assert oldest_kept_day(datetime(2024, 3, 30, tzinfo=UTC), 30) == date(2024, 2, 29)


def test_the_day_boundary_is_utc_whatever_the_clock_zone() -> None:
    # 2026-12-05 01:30 in UTC+3 is still 2026-12-04 in UTC.
    east = datetime(2026, 12, 5, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert oldest_kept_day(east, 30) == date(2026, 11, 4)
    # 2026-12-04 22:00 in UTC-5 is already 2026-12-05 in UTC.
    west = datetime(2026, 12, 4, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert oldest_kept_day(west, 30) == date(2026, 11, 5)


def test_a_day_goes_the_instant_its_last_event_is_retention_days_old() -> None:
    day = date(2026, 11, 3)
    end_of_day = datetime(2026, 11, 4, tzinfo=UTC)
    assert oldest_kept_day(end_of_day + timedelta(days=30) - timedelta(microseconds=1), 30) <= day
    assert oldest_kept_day(end_of_day + timedelta(days=30), 30) > day


def test_naive_times_and_zero_days_are_refused() -> None:
    with pytest.raises(RetentionError):
        oldest_kept_day(datetime(2026, 1, 1), 30)
    with pytest.raises(RetentionError):
        oldest_kept_day(NOW, 0)


def test_select_expired_splits_expired_kept_and_foreign() -> None:
    names = [
        "logs-nginx.access-2020.01.01",
        "logs-logflow.alert-2026.11.03",
        "logs-syslog-2026.11.04",
        "logs-syslog-2026.12.04",
        "logs-syslog-2027.01.01",  # from a producer with a clock ahead: kept
        "logs-syslog",
        "logs-syslog-2020.02.30",
    ]
    selection = select_expired("logs", names, NOW, 30)
    assert [i.name for i in selection.expired] == [
        "logs-nginx.access-2020.01.01",
        "logs-logflow.alert-2026.11.03",
    ]
    assert [i.name for i in selection.kept] == [
        "logs-syslog-2026.11.04",
        "logs-syslog-2026.12.04",
        "logs-syslog-2027.01.01",
    ]
    assert selection.foreign == ("logs-syslog", "logs-syslog-2020.02.30")


@pytest.mark.parametrize(
    ("raw", "days"), [("", DEFAULT_DAYS), ("7", 7), (" 365 ", 365), ("off", None), ("OFF", None)]
)
def test_retention_days_setting(raw: str, days: int | None) -> None:
    assert parse_days(raw) == days


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "30d", "abc", "²", "1e3", "9999999"])
def test_bad_retention_days_name_the_variable(raw: str) -> None:
    with pytest.raises(RetentionError, match="LOGFLOW_RETENTION_DAYS"):
        parse_days(raw)


def test_config_from_env() -> None:
    config = RetentionConfig.from_env(
        {"LOGFLOW_RETENTION_DAYS": "14", "LOGFLOW_RETENTION_MODE": "PRUNE", "LOGFLOW_INDEX_PREFIX": "lf"}
    )
    assert (config.days, config.mode, config.index_prefix, config.enabled) == (14, "prune", "lf", True)
    default = RetentionConfig.from_env({})
    assert (default.days, default.mode, default.index_prefix) == (30, "auto", "logs")
    assert not RetentionConfig.from_env({"LOGFLOW_RETENTION_DAYS": "off"}).enabled
    with pytest.raises(RetentionError, match="LOGFLOW_RETENTION_MODE"):
        RetentionConfig.from_env({"LOGFLOW_RETENTION_MODE": "both"})
    with pytest.raises(RetentionError, match="LOGFLOW_INDEX_PREFIX"):
        RetentionConfig.from_env({"LOGFLOW_INDEX_PREFIX": "logs*"})


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800)])
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["0h", "1", "h", "1w", "-1h", ""])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(RetentionError):
        parse_interval(text)
