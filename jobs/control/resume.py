"""Where a resubmitted job resumes: the newest complete retained checkpoint of its predecessors.

The standalone cluster has no high availability: a restarted JobManager has forgotten every job,
and a job submitted anew would start from the consumer group's offsets without its state (rules,
threshold counters, open windows). Flink leaves the retained checkpoints on disk
(``<checkpoint dir>/<job id>/chk-N/_metadata``), but nothing there says which job they belong
to, so every submission is recorded by job name in ``<checkpoint dir>/_logflow/<name>.json``:
which job id ran, what it read, and what it was restored from.

Only a ``chk-N`` that holds its ``_metadata`` counts: Flink writes that file last, once every
task acknowledged, so a directory without it is a checkpoint that never completed (a JobManager
killed mid-checkpoint leaves one behind). No Flink imports here, so unit tests stay fast.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

_CHECKPOINT_DIR = re.compile(r"^chk-(\d+)$")
METADATA = "_metadata"
RECORD_DIR = "_logflow"
# Older submissions are of no use for resuming once newer ones exist; keep the file small.
KEEP_SUBMISSIONS = 20


@dataclass(frozen=True)
class Submission:
    job_id: str
    submitted_at: float
    parallelism: int
    # What the job reads: a checkpoint of a job that read other topics must not be resumed.
    source: str
    restored_from: str | None = None
    # The savepoint it was stopped with (`logflow job rescale`): newer than any of its checkpoints.
    stopped_with: str | None = None


@dataclass(frozen=True)
class ResumePoint:
    path: Path
    job_id: str
    # "checkpoint N" or "savepoint": what the path is, for the message.
    kind: str
    # The parallelism the job ran at, to resume as it was unless told otherwise.
    parallelism: int


def checkpoints_root(conf_dir: Path) -> Path | None:
    """The local directory of ``execution.checkpointing.dir`` in the cluster's config.yaml.

    None when it is not set or not a local ``file:`` path: a remote store (S3, HDFS) cannot be
    listed from here, and the operator restores with ``--from-savepoint`` instead.
    """
    config_file = conf_dir / "config.yaml"
    if not config_file.is_file():
        return None
    config = yaml.safe_load(config_file.read_text()) or {}
    for dotted in ("execution.checkpointing.dir", "state.checkpoints.dir"):
        value = _lookup(config, dotted)
        if value:
            return local_path(str(value))
    return None


def _lookup(config: dict[str, Any], dotted: str) -> Any:
    """A key of Flink's config.yaml, nested or flat (Flink 2 accepts both)."""
    if dotted in config:
        return config[dotted]
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


def latest_complete_checkpoint(job_dir: Path) -> tuple[int, Path] | None:
    """(N, path) of the highest ``chk-N`` under a job's directory that has its ``_metadata``."""
    if not job_dir.is_dir():
        return None
    complete = []
    for child in job_dir.iterdir():
        match = _CHECKPOINT_DIR.match(child.name)
        if match and (child / METADATA).is_file() and (child / METADATA).stat().st_size > 0:
            complete.append((int(match.group(1)), child))
    return max(complete) if complete else None


def choose_resume_point(root: Path, history: list[Submission], source: str) -> ResumePoint | None:
    """The newest state a job reading ``source`` left: the newest submission's latest checkpoint.

    Submissions are tried newest first. One that never completed a checkpoint (it failed, or was
    stopped, right after it started) still has the state it was restored from, so that path is
    used when it still exists; only when neither exists does the search go on to older jobs.
    A submission that read another source ends the search: its state is not this job's.
    """
    for submission in sorted(history, key=lambda s: s.submitted_at, reverse=True):
        if submission.source != source:
            return None
        stopped = _existing_savepoint(submission.stopped_with)
        if stopped is not None:
            return ResumePoint(
                stopped, submission.job_id, "the savepoint it was stopped with", submission.parallelism
            )
        found = latest_complete_checkpoint(root / submission.job_id)
        if found is not None:
            number, path = found
            return ResumePoint(path, submission.job_id, f"checkpoint {number}", submission.parallelism)
        restored = _existing_savepoint(submission.restored_from)
        if restored is not None:
            return ResumePoint(
                restored, submission.job_id, "the state it was restored from", submission.parallelism
            )
    return None


def _existing_savepoint(location: str | None) -> Path | None:
    """The directory of a savepoint or checkpoint location, if it is local and still complete."""
    path = local_path(location) if location else None
    if path is not None and path.name == METADATA:
        path = path.parent
    return path if path is not None and (path / METADATA).is_file() else None


class SubmissionLog:
    """The submissions of one job name, oldest first, in a JSON file beside the checkpoints."""

    def __init__(self, root: Path, job_name: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", job_name)
        self.path = root / RECORD_DIR / f"{safe}.json"

    def read(self) -> list[Submission]:
        try:
            body = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ResumeError(f"cannot read the submission record {self.path}: {exc}") from None
        return [Submission(**entry) for entry in body.get("submissions", [])]

    def append(self, submission: Submission) -> None:
        self._write([*self.read(), submission][-KEEP_SUBMISSIONS:])

    def mark_stopped(self, job_id: str, savepoint: str) -> None:
        """Note the savepoint a recorded job was stopped with."""
        entries = self.read()
        if not any(e.job_id == job_id for e in entries):
            return
        self._write([replace(e, stopped_with=savepoint) if e.job_id == job_id else e for e in entries])

    def _write(self, entries: list[Submission]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed, so a crash mid-write never leaves a truncated record.
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"submissions": [asdict(e) for e in entries]}, indent=2) + "\n")
        temporary.replace(self.path)


class ResumeError(Exception):
    pass


def new_submission(job_id: str, parallelism: int, source: str, restored_from: str | None) -> Submission:
    return Submission(job_id, time.time(), parallelism, source, restored_from)


def source_of(topics: list[str], pattern: str, rules_topic: str, consumer_group: str) -> str:
    """What a job reads, as one string to compare submissions by."""
    return json.dumps(
        {"logs": pattern or sorted(topics), "rules": rules_topic, "group": consumer_group},
        sort_keys=True,
    )
