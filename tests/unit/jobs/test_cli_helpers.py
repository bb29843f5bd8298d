import argparse
import io

import pytest

from jobs.control.cli import iter_lines, parse_duration
from jobs.control.flink_rest import FlinkError, JobSummary
from jobs.control.lifecycle import abandon_submission


def test_iter_lines_splits_on_newline_only_and_keeps_bytes() -> None:
    data = b"a\r\nb\xff\xfe\n\n  \nc\x00d\rstill-c\nlast"
    assert list(iter_lines(io.BytesIO(data), chunk_size=3)) == [
        b"a\r",
        b"b\xff\xfe",
        b"c\x00d\rstill-c",
        b"last",
    ]


def test_parse_duration() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("2h") == 7200
    assert parse_duration("30s") == 30
    assert parse_duration("1d") == 86400
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("15 minutes")


class _Cluster:
    """A Flink REST stand-in: the jobs it lists, its slots, and what was cancelled."""

    def __init__(self, jobs: list[JobSummary], slots: tuple[int, int] = (0, 2), down: bool = False) -> None:
        self._jobs, self._slots, self._down = jobs, slots, down
        self.base_url = "http://127.0.0.1:8081"
        self.cancelled: list[str] = []

    def slots(self) -> tuple[int, int]:
        if self._down:
            raise FlinkError("Flink REST is unreachable")
        return self._slots

    def jobs(self) -> list[JobSummary]:
        return self._jobs

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)


def test_a_submit_that_never_ran_cancels_only_its_own_job_and_reports_the_slots() -> None:
    cluster = _Cluster(
        [
            JobSummary("new", "pipeline", "RESTARTING", 2, 0),
            JobSummary("old", "pipeline", "RESTARTING", 1, 0),  # there before this submit
            JobSummary("other", "demo", "RUNNING", 1, 0),
            JobSummary("done", "pipeline", "FAILED", 0, 0),
        ]
    )
    note = abandon_submission(cluster, "pipeline", previous={"old", "other"})
    assert cluster.cancelled == ["new"]
    assert "0 of 2 task slots free" in note and "cancelled new" in note


def test_a_submit_cleanup_that_cannot_reach_flink_says_so() -> None:
    cluster = _Cluster([JobSummary("new", "pipeline", "RESTARTING", 2, 0)], down=True)
    note = abandon_submission(cluster, "pipeline", previous=set())
    assert cluster.cancelled == [] and "could not clean up" in note
