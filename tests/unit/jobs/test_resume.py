from pathlib import Path

import pytest

from jobs.control.config import JobConfig
from jobs.control.flink_rest import JobSummary, stop_request
from jobs.control.lifecycle import RescaleError, rescale
from jobs.control.resume import (
    ResumeError,
    Submission,
    SubmissionLog,
    checkpoints_root,
    choose_resume_point,
    latest_complete_checkpoint,
    source_of,
)

SOURCE = source_of(["logs"], "", "logflow.rules", "logflow-pipeline")


def _checkpoint(root: Path, job_id: str, number: int, complete: bool = True) -> Path:
    path = root / job_id / f"chk-{number}"
    path.mkdir(parents=True)
    if complete:
        (path / "_metadata").write_bytes(b"\x00metadata")
    return path


def _savepoint(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "_metadata").write_bytes(b"\x00metadata")
    return path


def _submission(job_id: str, at: float, **kwargs: object) -> Submission:
    fields: dict[str, object] = {"parallelism": 2, "source": SOURCE, **kwargs}
    return Submission(job_id, at, **fields)  # type: ignore[arg-type]


def test_only_a_checkpoint_with_its_metadata_counts(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "job", 7)
    _checkpoint(tmp_path, "job", 8, complete=False)  # the JobManager died while it was being taken
    (tmp_path / "job" / "chk-9").mkdir()
    (tmp_path / "job" / "chk-9" / "_metadata").write_bytes(b"")  # never written
    (tmp_path / "job" / "shared").mkdir()
    assert latest_complete_checkpoint(tmp_path / "job") == (7, tmp_path / "job" / "chk-7")
    assert latest_complete_checkpoint(tmp_path / "missing") is None


def test_checkpoints_are_ordered_by_number_not_by_name(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "job", 9)
    _checkpoint(tmp_path, "job", 10)
    assert latest_complete_checkpoint(tmp_path / "job") == (10, tmp_path / "job" / "chk-10")


def test_the_newest_submission_with_state_is_resumed(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "old", 40)
    _checkpoint(tmp_path, "new", 3)
    _checkpoint(tmp_path, "someone-else", 99)  # another job's directory: never looked at
    history = [_submission("old", 1.0), _submission("new", 2.0, parallelism=4)]
    point = choose_resume_point(tmp_path, history, SOURCE)
    assert point is not None
    assert (point.path, point.job_id, point.kind, point.parallelism) == (
        tmp_path / "new" / "chk-3",
        "new",
        "checkpoint 3",
        4,
    )


def test_a_job_that_never_checkpointed_falls_back_to_what_it_was_restored_from(tmp_path: Path) -> None:
    savepoint = _savepoint(tmp_path / "savepoints", "savepoint-abc")
    _checkpoint(tmp_path, "old", 40)
    history = [
        _submission("old", 1.0),
        _submission("new", 2.0, restored_from=f"file:{savepoint}"),
    ]
    point = choose_resume_point(tmp_path, history, SOURCE)
    assert point is not None and point.path == savepoint and point.job_id == "new"


def test_the_savepoint_a_job_was_stopped_with_comes_before_its_checkpoints(tmp_path: Path) -> None:
    savepoint = _savepoint(tmp_path / "savepoints", "savepoint-stop")
    _checkpoint(tmp_path, "job", 5)
    history = [_submission("job", 1.0, stopped_with=savepoint.as_uri())]
    point = choose_resume_point(tmp_path, history, SOURCE)
    assert point is not None and point.path == savepoint


def test_with_nothing_left_on_disk_older_jobs_are_tried(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "older", 12)
    history = [
        _submission("older", 1.0),
        _submission("gone", 2.0, restored_from="file:/nowhere/savepoint-x"),
    ]
    point = choose_resume_point(tmp_path, history, SOURCE)
    assert point is not None and point.path == tmp_path / "older" / "chk-12"


def test_state_of_a_job_that_read_other_topics_is_never_resumed(tmp_path: Path) -> None:
    _checkpoint(tmp_path, "job", 5)
    other = source_of(["other-logs"], "", "logflow.rules", "logflow-pipeline")
    assert choose_resume_point(tmp_path, [_submission("job", 1.0)], other) is None
    assert choose_resume_point(tmp_path, [], SOURCE) is None


def test_the_submission_log_round_trips_and_marks_a_stop(tmp_path: Path) -> None:
    log = SubmissionLog(tmp_path, "logflow e2e/x")
    assert log.read() == []
    log.append(_submission("a", 1.0))
    log.append(_submission("b", 2.0, restored_from="file:/sp"))
    log.mark_stopped("b", "file:/sp-2")
    log.mark_stopped("unknown", "file:/sp-3")
    entries = log.read()
    assert [e.job_id for e in entries] == ["a", "b"]
    assert entries[1].stopped_with == "file:/sp-2" and entries[0].stopped_with is None
    assert log.path.parent == tmp_path / "_logflow" and "/" not in log.path.name
    assert list(log.path.parent.glob("*.tmp")) == []


def test_a_damaged_submission_log_is_a_clear_error(tmp_path: Path) -> None:
    log = SubmissionLog(tmp_path, "job")
    log.path.parent.mkdir()
    log.path.write_text("{not json")
    with pytest.raises(ResumeError, match="submission record"):
        log.read()


def test_the_checkpoint_root_comes_from_the_cluster_config(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "execution:\n  checkpointing:\n    dir: file:///data/flink/checkpoints\n"
    )
    assert checkpoints_root(tmp_path) == Path("/data/flink/checkpoints")
    (tmp_path / "config.yaml").write_text("state.checkpoints.dir: file:/flat/checkpoints\n")
    assert checkpoints_root(tmp_path) == Path("/flat/checkpoints")
    (tmp_path / "config.yaml").write_text("execution.checkpointing.dir: s3://bucket/checkpoints\n")
    assert checkpoints_root(tmp_path) is None
    assert checkpoints_root(tmp_path / "missing") is None


def test_rescale_stops_with_a_savepoint_without_draining() -> None:
    assert stop_request("file:///sp") == {
        "drain": False,
        "formatType": "CANONICAL",
        "targetDirectory": "file:///sp",
    }
    assert "targetDirectory" not in stop_request(None)


class _RunningJob:
    """A Flink REST stand-in with one RUNNING job at parallelism 2; records stop requests."""

    def __init__(self, free_slots: int) -> None:
        self.free_slots = free_slots
        self.stopped: list[str] = []

    def active_job(self, name: str) -> JobSummary:
        return JobSummary("job-1", name, "RUNNING", 0, 0)

    def job_details(self, _job_id: str) -> dict[str, object]:
        return {"vertices": [{"parallelism": 2}, {"parallelism": 1}]}

    def slots(self) -> tuple[int, int]:
        return self.free_slots, 8

    def stop_with_savepoint(self, job_id: str, _target: str | None, _timeout: float) -> str:
        self.stopped.append(job_id)
        raise AssertionError("must not stop the job")


@pytest.mark.parametrize("parallelism", [0, 129])
def test_rescale_refuses_a_parallelism_beyond_the_key_groups(parallelism: int) -> None:
    cluster = _RunningJob(free_slots=6)
    with pytest.raises(RescaleError, match="between 1 and 128"):
        rescale(cluster, JobConfig(), parallelism, None, 10)  # type: ignore[arg-type]
    assert cluster.stopped == []


def test_rescale_without_the_slots_leaves_the_job_running() -> None:
    cluster = _RunningJob(free_slots=1)
    with pytest.raises(RescaleError, match="needs 4 task slots; the cluster has 1 free plus the 2"):
        rescale(cluster, JobConfig(), 4, None, 10)  # type: ignore[arg-type]
    assert cluster.stopped == []
