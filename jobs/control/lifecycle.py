"""Submitting the pipeline with its state, and rescaling it: the steps behind `logflow job ...`.

Every submission is recorded by job name beside the checkpoints (``jobs.control.resume``), so a
later submission finds the newest retained state even after the JobManager forgot the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from jobs.control.config import JobConfig
from jobs.control.flink_rest import ACTIVE_STATES, FlinkError, FlinkRest, JobSummary
from jobs.control.resume import (
    ResumePoint,
    SubmissionLog,
    checkpoints_root,
    choose_resume_point,
    new_submission,
    source_of,
)
from jobs.control.submit import flink_conf_dir, run_flink_submit
from jobs.log_pipeline import MAX_PARALLELISM


def submission_log(config: JobConfig) -> SubmissionLog | None:
    """This job name's record, None when the cluster's checkpoints are not in a local directory."""
    root = checkpoints_root(flink_conf_dir())
    return SubmissionLog(root, config.name) if root is not None else None


def job_source(config: JobConfig) -> str:
    return source_of(
        list(config.topics.logs), config.topics.logs_pattern, config.topics.rules, config.consumer_group
    )


def resume_point(config: JobConfig) -> ResumePoint | None:
    log = submission_log(config)
    if log is None:
        return None
    return choose_resume_point(log.path.parent.parent, log.read(), job_source(config))


def submit_and_wait(
    rest: FlinkRest,
    config: JobConfig,
    restore_from: str | None,
    timeout_s: float,
    parallelism: int | None = None,
) -> JobSummary:
    """Submit, wait until every task is RUNNING, record the submission; cancel it if it never runs."""
    previous = {job.job_id for job in rest.jobs()}
    run_flink_submit(restore_from, parallelism=parallelism)
    try:
        job = rest.wait_running(config.name, timeout_s, previous)
    except FlinkError as exc:
        raise FlinkError(f"{exc}{abandon_submission(rest, config.name, previous)}") from None
    log = submission_log(config)
    if log is not None:
        log.append(
            new_submission(job.job_id, parallelism or config.parallelism, job_source(config), restore_from)
        )
    return job


def abandon_submission(rest: Any, name: str, previous: set[str]) -> str:
    """Cancel the job this submit started but could not see running, and say what may explain it.

    A job left behind would keep restarting (and a second submit would find it "already active");
    the usual cause on a small cluster is that other jobs hold every task slot.
    """
    notes = []
    try:
        free, total = rest.slots()
        notes.append(f"{free} of {total} task slots free (jobs holding them: {rest.base_url}/#/job/running)")
        for job in rest.jobs():
            mine = job.name == name and job.job_id not in previous
            if mine and job.state in ACTIVE_STATES and job.state != "CANCELLING":
                rest.cancel(job.job_id)
                notes.append(f"cancelled {job.job_id} so that it does not keep restarting")
    except FlinkError as exc:
        notes.append(f"could not clean up: {exc}")
    return "; " + "; ".join(notes) if notes else ""


def job_parallelism(rest: FlinkRest, job_id: str) -> int:
    """The most subtasks any vertex of the job runs: the task slots it holds."""
    vertices = rest.job_details(job_id).get("vertices", [])
    return max((int(v.get("parallelism", 0)) for v in vertices), default=0)


@dataclass(frozen=True)
class RescaleReport:
    name: str
    old_job_id: str
    new_job_id: str
    from_parallelism: int
    to_parallelism: int
    savepoint: str
    # Seconds from the stop request until the savepoint was complete (the job's sources stop then).
    stop_s: float
    # Seconds from the stop request until every task of the new job was RUNNING: the time no
    # event was processed.
    unavailable_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "old_job_id": self.old_job_id,
            "new_job_id": self.new_job_id,
            "from_parallelism": self.from_parallelism,
            "to_parallelism": self.to_parallelism,
            "savepoint": self.savepoint,
            "stop_s": round(self.stop_s, 2),
            "unavailable_s": round(self.unavailable_s, 2),
        }


class RescaleError(Exception):
    pass


def rescale(
    rest: FlinkRest,
    config: JobConfig,
    parallelism: int,
    target_directory: str | None,
    timeout_s: float,
) -> RescaleReport:
    """Stop the running job with a savepoint and resubmit it from there at ``parallelism``."""
    if not 1 <= parallelism <= MAX_PARALLELISM:
        raise RescaleError(f"parallelism must be between 1 and {MAX_PARALLELISM}, got {parallelism}")
    active = rest.active_job(config.name)
    if active is None or active.state != "RUNNING":
        state = active.state if active else "not running"
        raise RescaleError(f"{config.name} is {state}; only a RUNNING job can be rescaled")
    current = job_parallelism(rest, active.job_id)
    free, _total = rest.slots()
    # The old job's slots are free again once it has stopped.
    if free + current < parallelism:
        raise RescaleError(
            f"parallelism {parallelism} needs {parallelism} task slots; the cluster has {free} free "
            f"plus the {current} this job holds (more TaskManagers: LOGFLOW_TASKMANAGERS)"
        )
    started = time.monotonic()
    savepoint = rest.stop_with_savepoint(active.job_id, target_directory, timeout_s)
    stopped = time.monotonic()
    log = submission_log(config)
    if log is not None:
        log.mark_stopped(active.job_id, savepoint)
    state = rest.wait_terminal(active.job_id, timeout_s)
    if state != "FINISHED":
        raise RescaleError(f"{config.name} ({active.job_id}) ended {state} instead of FINISHED")
    try:
        job = submit_and_wait(rest, config, savepoint, timeout_s, parallelism)
    except Exception as exc:
        raise RescaleError(
            f"the job stopped with savepoint {savepoint} but did not come back at parallelism "
            f"{parallelism}: {exc}\nresume it with: logflow job submit --from-savepoint {savepoint}"
        ) from None
    return RescaleReport(
        name=config.name,
        old_job_id=active.job_id,
        new_job_id=job.job_id,
        from_parallelism=current,
        to_parallelism=parallelism,
        savepoint=savepoint,
        stop_s=stopped - started,
        unavailable_s=time.monotonic() - started,
    )
