from common.schema.stats import StatsKeys, WindowStats


def test_key_schema_is_stable() -> None:
    keys = StatsKeys("logflow:stats", 60)
    assert keys.index == "logflow:stats:60s:index"
    assert keys.totals(1_795_392_000) == "logflow:stats:60s:1795392000"
    assert keys.dimension(1_795_392_000, "host") == "logflow:stats:60s:1795392000:host"
    assert keys.all_for(0) == [
        "logflow:stats:60s:0",
        "logflow:stats:60s:0:dataset",
        "logflow:stats:60s:0:host",
        "logflow:stats:60s:0:level",
        "logflow:stats:60s:0:rule",
    ]


def test_window_round_trips_through_hashes() -> None:
    stats = WindowStats(start=1_795_392_000, end=1_795_392_060, total=3, indexed=2, dropped=1, late=4)
    stats.by_dataset.update({"syslog": 3})
    stats.by_rule.update({"r": 1})
    back = WindowStats.from_hashes(
        stats.start, 60, stats.totals_hash(), {"dataset": {"syslog": "3"}, "rule": {"r": "1"}}
    )
    assert back.to_json() == stats.to_json()
    assert stats.to_json()["start"] == "2026-11-23T00:00:00Z"
    assert stats.to_json()["end"] == "2026-11-23T00:01:00Z"
