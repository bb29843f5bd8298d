"""`logflow stack up | down | status`: the local stack as native processes on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .services import StackContext


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stack_command", metavar="COMMAND")
    only_help = (
        "comma-separated services (elasticsearch, redis, kafka, flink-jobmanager, flink-taskmanager-N, "
        "rules-api, retention; aliases flink-taskmanager (all TaskManagers), flink, es, api); default: all"
    )
    up = sub.add_parser("up", help="start every service (idempotent) and wait until healthy")
    up.add_argument("--only", default="", help=only_help)
    up.set_defaults(handler=_up)
    down = sub.add_parser("down", help="stop the services this stack started (by pid file)")
    down.add_argument("--only", default="", help=only_help)
    down.set_defaults(handler=_down)
    status = sub.add_parser("status", help="show each service as up/starting/down with pid and port")
    status.add_argument("--only", default="", help=only_help)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--any-owner",
        action="store_true",
        help="exit 0 when every service answers healthy, even if another checkout's stack started it",
    )
    status.set_defaults(handler=_status)
    fetch = sub.add_parser(
        "fetch", help="download Kafka, Elasticsearch and the Flink connector into the cache"
    )
    fetch.set_defaults(handler=_fetch)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def _fail(message: str) -> int:
    print(f"logflow stack: {message}", file=sys.stderr)
    return 1


def _up(args: argparse.Namespace) -> int:
    from .errors import StackError
    from .orchestrator import context_from_env, up

    started = time.monotonic()
    try:
        ctx = context_from_env()
        print(f"logflow stack up (LOGFLOW_HOME={ctx.layout.home})", flush=True)
        states = up(ctx, _names(args.only))
    except StackError as exc:
        return _fail(str(exc))
    print(f"stack is up in {time.monotonic() - started:.1f}s:")
    for state in states:
        print(f"  {state.name:<20} 127.0.0.1:{state.port:<6} pid {state.pid!s:<8} log {state.log}")
    if any(state.name == "rules-api" for state in states):
        print(f"  rules API admin token: {ctx.layout.api_token_file}")
    print(f"  Flink UI: http://127.0.0.1:{ctx.ports.flink_rest}")
    for name, port in metrics_endpoints(ctx, [state.name for state in states]):
        print(f"  Prometheus metrics of {name}: http://127.0.0.1:{port}/metrics")
    print(f"  Flink Kafka connector jar: {ctx.layout.connector_jar}")
    print("stop it with: logflow stack down")
    return 0


def metrics_endpoints(ctx: StackContext, names: list[str]) -> list[tuple[str, int]]:
    """The Prometheus endpoint of each Flink process among the named services."""
    from . import taskmanagers

    endpoints = []
    for name in names:
        index = taskmanagers.index_of(name)
        if name == "flink-jobmanager":
            endpoints.append((name, ctx.ports.flink_metrics))
        elif index is not None:
            endpoints.append((name, ctx.ports.taskmanager(index).metrics))
    return endpoints


def _down(args: argparse.Namespace) -> int:
    from .errors import StackError
    from .orchestrator import context_from_env, down

    try:
        results = down(context_from_env(), _names(args.only))
    except StackError as exc:
        return _fail(str(exc))
    for name, pid, killed in results:
        if pid is None:
            print(f"  {name:<20} not running")
        else:
            print(f"  {name:<20} stopped (pid {pid}{', killed after timeout' if killed else ''})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from .errors import StackError
    from .orchestrator import answering_services, context_from_env, status

    try:
        ctx = context_from_env()
        if args.any_owner:
            answering = answering_services(ctx, _names(args.only))
            for name, ok in answering.items():
                print(f"{name:<20} {'answers' if ok else 'silent'}")
            return 0 if all(answering.values()) else 3
        states = status(ctx, _names(args.only))
    except StackError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([{**state.__dict__, "state": state.label} for state in states], indent=2))
    else:
        print(f"{'SERVICE':<20} {'STATE':<9} {'PID':<8} PORT")
        for state in states:
            print(f"{state.name:<20} {state.label:<9} {state.pid or '-'!s:<8} {state.port}")
    # Exit 0 only when everything asked about is up, so scripts can poll `logflow stack status`.
    return 0 if all(state.healthy for state in states) else 3


def _fetch(_args: argparse.Namespace) -> int:
    from . import artifacts
    from .errors import StackError
    from .orchestrator import context_from_env

    try:
        layout = context_from_env().layout
        artifacts.require_java()
        print(f"kafka jars:    {artifacts.ensure_kafka(layout)}")
        print(f"connector:     {artifacts.ensure_connector(layout)}")
        print(f"elasticsearch: {artifacts.ensure_elasticsearch(layout)}")
    except StackError as exc:
        return _fail(str(exc))
    return 0
