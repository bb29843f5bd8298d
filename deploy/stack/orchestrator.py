"""`up`, `down` and `status` of the local stack over the services in ``services.services()``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import processes, taskmanagers
from .errors import StackError
from .layout import StackLayout
from .netcheck import listener_pids, port_bindable, port_open
from .ports import StackPorts
from .services import Service, StackContext, aliases, by_name, rules_api_available, services
from .topics import ensure_topics
from .tuning import StackTuning

# Services without a port of their own.
NO_PORT_OF_THEIR_OWN = frozenset({"retention"})
SECOND_WAVE = frozenset({"rules-api", "retention"})


def context_from_env(environ: Mapping[str, str] | None = None) -> StackContext:
    env = dict(os.environ if environ is None else environ)
    return StackContext(
        layout=StackLayout.from_env(env),
        ports=StackPorts.from_env(env),
        tuning=StackTuning.from_env(env),
        environ=env,
    )


def configured_taskmanagers(ctx: StackContext) -> range:
    return range(1, ctx.tuning.taskmanagers + 1)


def known_taskmanagers(ctx: StackContext) -> set[int]:
    """The configured TaskManagers and any other that still has a pid file (LOGFLOW_TASKMANAGERS
    lowered since it started), so `status` shows and `down` stops them too."""
    return set(configured_taskmanagers(ctx)) | taskmanagers.indices_on_disk(ctx.layout)


def select(only: Iterable[str] | None, taskmanager_indices: Iterable[int] = (1,)) -> list[Service]:
    """Services named by --only (with aliases), in start order; all of them when only is empty."""
    ordered = services(taskmanager_indices)
    registry = by_name(ordered)
    alias_names = aliases(ordered)
    if not only:
        chosen = set(registry)
        if not rules_api_available():
            chosen.discard("rules-api")
    else:
        chosen = set()
        for raw in only:
            name = raw.strip()
            if not name:
                continue
            names = alias_names.get(name, (name,))
            unknown = [n for n in names if n not in registry]
            if unknown:
                valid = ", ".join([*registry, *alias_names])
                raise StackError(f"unknown service {name!r}: choose from {valid}")
            chosen.update(names)
    return [service for service in ordered if service.name in chosen]


@dataclass(frozen=True)
class ServiceState:
    name: str
    pid: int | None
    running: bool
    healthy: bool
    port: int
    log: str

    @property
    def label(self) -> str:
        if self.running:
            return "up" if self.healthy else "starting"
        return "down"


def state_of(ctx: StackContext, service: Service) -> ServiceState:
    pid = processes.read_pid(service.pid_file(ctx.layout))
    running = pid is not None and processes.pid_alive(pid, service.markers)
    healthy = running and service.healthy(ctx)
    return ServiceState(
        service.name,
        pid if running else None,
        running,
        healthy,
        service.port(ctx.ports),
        str(service.log_file(ctx.layout)),
    )


def _check_ports_free(ctx: StackContext, service: Service) -> None:
    if service.name in NO_PORT_OF_THEIR_OWN:
        return
    for port in (service.port(ctx.ports), *service.extra_ports(ctx.ports)):
        if port_open(port) or not port_bindable(port):
            holders = listener_pids(port)
            who = f" (pid {', '.join(map(str, holders))})" if holders else ""
            raise StackError(
                f"port {port} for {service.name} is in use by another process{who} that logflow did not "
                f"start: stop it, or move {service.name} with {service.port_variable}"
            )


def _start(ctx: StackContext, service: Service) -> int:
    pid_file = service.pid_file(ctx.layout)
    stale = processes.read_pid(pid_file)
    if stale is not None:
        # The leader died (crash, kill -9): clear what is left of its group before starting anew.
        processes.reap_leftover_group(stale)
        pid_file.unlink(missing_ok=True)
    _check_ports_free(ctx, service)
    launch = service.prepare(ctx)
    pid = processes.spawn(launch)
    # Asked again: preparing may move a service to new file names (TaskManager 1 off the old ones).
    processes.write_pid(service.pid_file(ctx.layout), pid)
    return pid


def _tail(path: str, lines: int = 3) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    picked = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(picked)


def _just_started_alive(ctx: StackContext, service: Service) -> bool:
    """Liveness without the command-line check, for a pid we spawned moments ago: launcher scripts
    exec() through several command lines before the service's own one appears."""
    pid = processes.read_pid(service.pid_file(ctx.layout))
    return pid is not None and processes.pid_alive(pid)


def _wait_healthy(ctx: StackContext, services: Sequence[Service], deadline: float) -> None:
    pending = list(services)
    while pending:
        for service in list(pending):
            state = state_of(ctx, service)
            if state.healthy:
                pending.remove(service)
                print(f"  {service.name} is up", flush=True)
            elif not state.running and not _just_started_alive(ctx, service):
                tail = _tail(state.log)
                raise StackError(
                    f"{service.name} exited during startup: see {state.log}"
                    + (f" (last: {tail})" if tail else "")
                )
        if pending and time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            logs = ", ".join(str(s.log_file(ctx.layout)) for s in pending)
            raise StackError(f"{names} not healthy after {ctx.tuning.start_timeout}s: see {logs}")
        if pending:
            time.sleep(0.5)


def up(ctx: StackContext, only: Iterable[str] | None = None) -> list[ServiceState]:
    chosen = select(only, configured_taskmanagers(ctx))
    ctx.ports.check_distinct(ctx.tuning.taskmanagers)
    for directory in (ctx.layout.run, ctx.layout.logs, ctx.layout.cache):
        directory.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + ctx.tuning.start_timeout
    # The API connects to Redis and Kafka as it starts, and retention prunes Elasticsearch at once,
    # so they go in a second wave.
    waves = [
        [s for s in chosen if s.name not in SECOND_WAVE],
        [s for s in chosen if s.name in SECOND_WAVE],
    ]
    for wave in waves:
        for service in wave:
            state = state_of(ctx, service)
            if state.running:
                print(f"  {service.name} already running (pid {state.pid})", flush=True)
                continue
            pid = _start(ctx, service)
            print(f"  started {service.name} (pid {pid}), log {service.log_file(ctx.layout)}", flush=True)
        _wait_healthy(ctx, wave, deadline)
        if any(s.name == "kafka" for s in wave):
            created = ensure_topics(ctx.environ, timeout=max(10.0, deadline - time.monotonic()))
            if created:
                print(f"  created topics: {', '.join(sorted(created))}", flush=True)
    return [state_of(ctx, service) for service in chosen]


def down(ctx: StackContext, only: Iterable[str] | None = None) -> list[tuple[str, int | None, bool]]:
    """Stop the chosen services (reverse start order). Returns (name, pid or None, had to be killed)."""
    indices = known_taskmanagers(ctx)
    chosen = select(only, indices) if only else list(services(indices))
    stopped: list[tuple[str, int | None, bool]] = []
    for service in reversed(chosen):
        pid_file = service.pid_file(ctx.layout)
        pid = processes.read_pid(pid_file)
        if pid is None:
            stopped.append((service.name, None, False))
            continue
        killed = False
        if processes.pid_alive(pid, service.markers):
            killed = processes.stop(pid)
        else:
            processes.reap_leftover_group(pid)
        pid_file.unlink(missing_ok=True)
        stopped.append((service.name, pid, killed))
    return stopped


def status(ctx: StackContext, only: Iterable[str] | None = None) -> list[ServiceState]:
    chosen = select(only, known_taskmanagers(ctx))
    return [state_of(ctx, service) for service in chosen]


def answering_services(ctx: StackContext, only: Iterable[str] | None = None) -> dict[str, bool]:
    """Health of each service by its probe alone, whoever started it (no pid files consulted).

    ``make test`` uses this to run against a stack another checkout already keeps on these ports.
    """
    chosen = select(only, configured_taskmanagers(ctx))
    # A TaskManager's probe needs the resource id from its pid-file sibling, which only the
    # checkout that started it has.
    return {
        service.name: service.healthy(ctx)
        for service in chosen
        if taskmanagers.index_of(service.name) is None
    }
