"""Pid files, liveness with command-line markers, and stopping whole process groups."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.stack import netcheck, processes
from deploy.stack.artifacts import java_major


def test_pid_file_round_trip_and_garbage(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "svc.pid"
    assert processes.read_pid(pid_file) is None
    processes.write_pid(pid_file, 4242)
    assert pid_file.read_text() == "4242\n"
    assert processes.read_pid(pid_file) == 4242
    pid_file.write_text("not a pid\n")
    assert processes.read_pid(pid_file) is None


def test_pid_alive_checks_the_marker_against_recycled_pids() -> None:
    me = os.getpid()
    assert processes.pid_alive(me)
    assert processes.pid_alive(me, ("python",))
    assert not processes.pid_alive(me, ("kafka.Kafka",))


def test_dead_and_zombie_processes_are_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while processes._proc_state(child.pid) not in {"Z", None} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes.pid_alive(child.pid), "an unreaped child (zombie) is not running"
    child.wait()
    assert not processes.pid_alive(child.pid)


def test_spawn_then_stop_takes_the_whole_process_group(tmp_path: Path) -> None:
    # The leader forks a grandchild, like Elasticsearch's launcher or Flink's Python workers.
    script = (
        "import subprocess,sys,time; "
        "subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); time.sleep(60)"
    )
    launch = processes.Launch(
        [sys.executable, "-c", script], dict(os.environ), tmp_path, tmp_path / "svc.log"
    )
    pid = processes.spawn(launch)
    deadline = time.monotonic() + 10
    while not processes.descendants(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchildren = processes.descendants(pid)
    assert grandchildren
    assert os.getpgid(pid) == pid
    assert processes.rss_kib(pid) > 0
    killed = processes.stop(pid, grace_seconds=10)
    assert not killed
    assert not processes.pid_alive(pid)
    assert not any(processes.pid_alive(child) for child in grandchildren)
    assert "starting:" in (tmp_path / "svc.log").read_text()


def test_reap_leftover_group_kills_orphans_of_a_dead_leader(tmp_path: Path) -> None:
    script = "import subprocess,sys; subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'])"
    launch = processes.Launch(
        [sys.executable, "-c", script], dict(os.environ), tmp_path, tmp_path / "svc.log"
    )
    pid = processes.spawn(launch)
    deadline = time.monotonic() + 10
    while processes.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.waitpid(pid, 0)
    assert processes._group_alive(pid), "the orphaned grandchild still holds the group"
    processes.reap_leftover_group(pid)
    deadline = time.monotonic() + 10
    while processes._group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not processes._group_alive(pid)


def test_port_probes_see_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert netcheck.port_open(port)
        assert not netcheck.port_bindable(port)
        assert os.getpid() in netcheck.listener_pids(port) or netcheck.listener_pids(port) == []
    assert not netcheck.port_open(port)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_381"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("garbage", None),
    ],
)
def test_java_major(output: str, major: int | None) -> None:
    assert java_major(output) == major
