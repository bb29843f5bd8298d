"""The stack's `retention` service: started as `logflow indices prune --every`, healthy once it has
run, stopped by its pid file like every other service."""

from __future__ import annotations

import json
from pathlib import Path

from deploy.stack import processes, retention
from deploy.stack.orchestrator import context_from_env, down, select, status, up
from deploy.stack.services import StackContext, by_name


def _ctx(home: Path, **extra: str) -> StackContext:
    # Port 1 on loopback refuses connections: the scheduler runs, its prune fails and is retried.
    return context_from_env(
        {"PATH": "/usr/bin:/bin", "LOGFLOW_HOME": str(home), "LOGFLOW_ES_URL": "http://127.0.0.1:1", **extra}
    )


def test_retention_is_part_of_the_default_stack_and_selectable() -> None:
    assert "retention" in [s.name for s in select(None)]
    assert [s.name for s in select(["retention"])] == ["retention"]


def test_launch_runs_prune_every_interval_with_a_status_file(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, LOGFLOW_RETENTION_INTERVAL="15m", LOGFLOW_RETENTION_DAYS="7")
    launch = retention.prepare(ctx)
    line = " ".join(launch.argv)
    assert "indices prune --every 15m --status-file" in line
    assert any(marker in line for marker in by_name()["retention"].markers)
    assert launch.env["LOGFLOW_RETENTION_DAYS"] == "7"
    assert launch.log_file == tmp_path / "logs" / "retention.log"
    assert "--every 1h" in " ".join(retention.prepare(_ctx(tmp_path)).argv)


def test_healthy_only_when_the_status_file_names_the_running_pid(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    assert not retention.healthy(ctx)
    processes.write_pid(ctx.layout.pid_file("retention"), 4242)
    Path(retention.status_file(ctx)).write_text(json.dumps({"pid": 4243, "ok": True}))
    assert not retention.healthy(ctx)
    Path(retention.status_file(ctx)).write_text(json.dumps({"pid": 4242, "ok": False}))
    assert retention.healthy(ctx)


def test_up_starts_the_scheduler_and_down_stops_it_by_pid_file(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    try:
        (state,) = up(ctx, ["retention"])
        assert state.name == "retention" and state.healthy and state.pid is not None
        pid = state.pid
        recorded = json.loads(Path(retention.status_file(ctx)).read_text())
        assert recorded["pid"] == pid and recorded["ok"] is False  # Elasticsearch is not at port 1
        assert "cannot list indices at http://127.0.0.1:1" in ctx.layout.log_file("retention").read_text()
    finally:
        results = down(ctx, ["retention"])
    assert results[0][:2] == ("retention", pid)
    assert not processes.pid_alive(pid)
    assert not ctx.layout.pid_file("retention").exists()
    assert status(ctx, ["retention"])[0].label == "down"
