from common.schema.stats import (
    DEAD_LETTERED,
    DROPPED,
    INDEXED,
    Stat,
    StatBatch,
    WindowStats,
    is_late,
    window_end_ms,
    window_start,
    window_start_ms,
)


def test_window_start_aligns_to_window_size() -> None:
    assert window_start(1_795_391_999_999, 60) == 1_795_391_940
    assert window_start(1_795_392_000_000, 60) == 1_795_392_000
    assert window_start(59_999, 60) == 0


def test_window_stats_count_every_dimension_and_outcome() -> None:
    stats = WindowStats(start=0, end=60)
    stats.add(Stat(0, INDEXED, "syslog", "h1", "info", ("r1", "r2"), 4, False))
    stats.add(Stat(0, DROPPED, "syslog", "h2", "debug", ("drop-debug",), 1, False))
    stats.add(Stat(0, DEAD_LETTERED, "json", "-", "-", (), 2, False))
    stats.add(Stat(0, INDEXED, "syslog", "h9", "info", ("r1",), 3, True))  # late: only `late`
    assert (stats.total, stats.indexed, stats.dropped, stats.dead_lettered, stats.late) == (7, 4, 1, 2, 3)
    assert stats.by_dataset == {"syslog": 5, "json": 2}
    assert stats.by_host == {"h1": 4, "h2": 1, "-": 2}
    assert stats.by_rule == {"r1": 4, "r2": 4, "drop-debug": 1}


def test_one_window_arithmetic_for_keys_sums_and_lateness() -> None:
    for ts_ms in (0, 59_999, 60_000, 1_795_391_999_999):
        start = window_start(ts_ms, 60)
        assert window_start_ms(ts_ms, 60) == start * 1000
        assert window_end_ms(ts_ms, 60) == (start + 60) * 1000
        assert not is_late(ts_ms, window_end_ms(ts_ms, 60) - 2, 60)
        assert is_late(ts_ms, window_end_ms(ts_ms, 60) - 1, 60)
        batch = StatBatch(60)
        batch.add(Stat(ts_ms, INDEXED, "d", "h", "l", (), 1, False))
        assert [s.ts_ms for s in batch.drain()] == [start * 1000]
