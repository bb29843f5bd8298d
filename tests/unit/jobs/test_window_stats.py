import pytest

pytest.importorskip("pyflink")

from common.schema.stats import WindowStats
from jobs.elements import DEAD_LETTERED, DROPPED, INDEXED
from jobs.transforms.window_stats import count_into, window_start


def test_window_start_aligns_to_window_size() -> None:
    assert window_start(1_795_391_999_999, 60) == 1_795_391_940
    assert window_start(1_795_392_000_000, 60) == 1_795_392_000
    assert window_start(59_999, 60) == 0


def test_count_into_counts_every_dimension_and_outcome() -> None:
    stats = WindowStats(start=0, end=60)
    count_into(stats, (0, INDEXED, "syslog", "h1", "info", ("r1", "r2"), 4, False))
    count_into(stats, (0, DROPPED, "syslog", "h2", "debug", ("drop-debug",), 1, False))
    count_into(stats, (0, DEAD_LETTERED, "json", "-", "-", (), 2, False))
    count_into(stats, (0, INDEXED, "syslog", "h9", "info", ("r1",), 3, True))  # late: only `late`
    assert (stats.total, stats.indexed, stats.dropped, stats.dead_lettered, stats.late) == (7, 4, 1, 2, 3)
    assert stats.by_dataset == {"syslog": 5, "json": 2}
    assert stats.by_host == {"h1": 4, "h2": 1, "-": 2}
    assert stats.by_rule == {"r1": 4, "r2": 4, "drop-debug": 1}
