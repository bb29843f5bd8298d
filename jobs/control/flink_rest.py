"""A small client for the Flink REST API (job overview, cancel, savepoints, checkpoints)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

ACTIVE_STATES = frozenset(
    {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING", "FAILING", "CANCELLING"}
)


class FlinkError(Exception):
    pass


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    name: str
    state: str
    start_time_ms: int
    duration_ms: int


def stop_request(target_directory: str | None) -> dict[str, Any]:
    """The body of ``POST /jobs/:id/stop``: a savepoint, then the job stops without draining.

    ``drain`` would first advance the watermark to the end of time, firing every open window and
    flushing the multi-line buffers as if the stream had ended; without it they stay in the
    savepoint and carry on in the job restored from it.
    """
    body: dict[str, Any] = {"drain": False, "formatType": "CANONICAL"}
    if target_directory:
        body["targetDirectory"] = target_directory
    return body


class FlinkRest:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s)
        self.base_url = base_url

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise FlinkError(
                f"Flink REST {self.base_url} is unreachable ({exc}); is the stack up? (logflow stack up)"
            ) from None
        if response.status_code >= 400:
            raise FlinkError(
                f"Flink REST {method} {path}: HTTP {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else {}

    def jobs(self) -> list[JobSummary]:
        body = self._request("GET", "/jobs/overview")
        jobs = [
            JobSummary(
                j["jid"], j["name"], j["state"], int(j.get("start-time", 0)), int(j.get("duration", 0))
            )
            for j in body.get("jobs", [])
        ]
        return sorted(jobs, key=lambda j: j.start_time_ms, reverse=True)

    def active_job(self, name: str) -> JobSummary | None:
        return next((j for j in self.jobs() if j.name == name and j.state in ACTIVE_STATES), None)

    def job_details(self, job_id: str) -> Any:
        return self._request("GET", f"/jobs/{job_id}")

    def all_tasks_running(self, job_id: str) -> bool:
        details = self.job_details(job_id)
        vertices = details.get("vertices", [])
        return (
            details.get("state") == "RUNNING"
            and bool(vertices)
            and all(v.get("status") == "RUNNING" for v in vertices)
        )

    def wait_running(self, name: str, timeout_s: float, previous: set[str] | None = None) -> JobSummary:
        """Wait until a job with this name (and not one of ``previous``) has all its tasks running."""
        deadline = time.monotonic() + timeout_s
        last_state = "not submitted"
        while time.monotonic() < deadline:
            for job in self.jobs():
                if job.name != name or (previous and job.job_id in previous):
                    continue
                last_state = job.state
                if job.state in {"FAILED", "CANCELED", "FINISHED"}:
                    raise FlinkError(f"job {name} ({job.job_id}) ended as {job.state}; see {self.base_url}")
                if job.state == "RUNNING" and self.all_tasks_running(job.job_id):
                    return job
                break
            time.sleep(1.0)
        raise FlinkError(f"job {name} is not RUNNING after {timeout_s:.0f}s (last state: {last_state})")

    def taskmanagers_of(self, job_id: str) -> set[str]:
        """The TaskManagers (resource ids) that run at least one of the job's subtasks."""
        found: set[str] = set()
        for vertex in self.job_details(job_id).get("vertices", []):
            body = self._request("GET", f"/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers")
            found.update(str(tm.get("taskmanager-id")) for tm in body.get("taskmanagers", []))
        return found

    def taskmanager_count(self) -> int:
        return len(self._request("GET", "/taskmanagers").get("taskmanagers", []))

    def slots(self) -> tuple[int, int]:
        """(available, total) task slots of the cluster."""
        body = self._request("GET", "/overview")
        return int(body.get("slots-available", 0)), int(body.get("slots-total", 0))

    def cancel(self, job_id: str) -> None:
        self._request("PATCH", f"/jobs/{job_id}", params={"mode": "cancel"})

    def wait_terminal(self, job_id: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = str(self.job_details(job_id).get("state"))
            if state in {"CANCELED", "FAILED", "FINISHED"}:
                return state
            time.sleep(0.5)
        raise FlinkError(f"job {job_id} did not stop within {timeout_s:.0f}s")

    def savepoint(self, job_id: str, target_directory: str | None, cancel: bool, timeout_s: float) -> str:
        body: dict[str, Any] = {"cancel-job": cancel, "formatType": "CANONICAL"}
        if target_directory:
            body["target-directory"] = target_directory
        trigger = self._request("POST", f"/jobs/{job_id}/savepoints", json=body)["request-id"]
        return self._await_savepoint(job_id, trigger, timeout_s)

    def stop_with_savepoint(self, job_id: str, target_directory: str | None, timeout_s: float) -> str:
        """Stop the job with a savepoint (it ends FINISHED); returns the savepoint's location."""
        body = stop_request(target_directory)
        trigger = self._request("POST", f"/jobs/{job_id}/stop", json=body)["request-id"]
        return self._await_savepoint(job_id, trigger, timeout_s)

    def _await_savepoint(self, job_id: str, trigger: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self._request("GET", f"/jobs/{job_id}/savepoints/{trigger}")
            if status.get("status", {}).get("id") == "COMPLETED":
                operation = status.get("operation", {})
                if "failure-cause" in operation:
                    cause = operation["failure-cause"].get("stack-trace", "")[:800]
                    raise FlinkError(f"savepoint failed: {cause}")
                return str(operation.get("location"))
            time.sleep(0.5)
        raise FlinkError(f"savepoint of {job_id} did not complete within {timeout_s:.0f}s")

    def checkpoint_durations_s(self, job_id: str) -> list[float]:
        """End-to-end durations of the completed checkpoints Flink still remembers."""
        history = self._request("GET", f"/jobs/{job_id}/checkpoints").get("history", [])
        return [c["end_to_end_duration"] / 1000 for c in history if c.get("status") == "COMPLETED"]

    def restored_from(self, job_id: str) -> str | None:
        """The checkpoint or savepoint the job started from, None if it started without state."""
        body = self._request("GET", f"/jobs/{job_id}/checkpoints")
        restored = (body.get("latest") or {}).get("restored") or {}
        return str(restored["external_path"]) if restored.get("external_path") else None

    def checkpoint_summary(self, job_id: str) -> dict[str, Any]:
        body = self._request("GET", f"/jobs/{job_id}/checkpoints")
        latest = (body.get("latest") or {}).get("completed") or {}
        counts = body.get("counts", {})
        return {
            "completed": counts.get("completed", 0),
            "failed": counts.get("failed", 0),
            "restored": counts.get("restored", 0),
            "latest_duration_ms": latest.get("end_to_end_duration"),
            "latest_size_bytes": latest.get("state_size") or latest.get("checkpointed_size"),
            "latest_completed_ms": latest.get("latest_ack_timestamp"),
        }
