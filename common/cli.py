"""The `logflow` console script.

Subcommands are contributed by each area through the ``logflow.commands`` entry-point group (see
pyproject.toml), so this dispatcher never imports Flink, Kafka or web code itself. An entry point
named ``group.command`` becomes ``logflow group command``; a bare name is a top-level command. Each
entry point is a ``configure(parser)`` callable that adds its arguments and sets ``handler`` — a
function taking the parsed namespace and returning the process exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points

Handler = Callable[[argparse.Namespace], int]

_HELP = {
    "rules": "rules: offline dry runs and editing through the rules API",
    "api": "the rules API server",
    "parse": "parse log lines from stdin into ECS JSON records",
    "stack": "start, stop and inspect the local stack (Kafka, Elasticsearch, Redis, Flink, API)",
    "job": "submit, inspect, cancel and savepoint the Flink log pipeline job",
    "produce": "send one Kafka message per input line",
    "stats": "read the per-window statistics from Redis",
    "errors": "the top error groups (fingerprints) from Redis",
    "indices": "Elasticsearch index retention: delete daily indices past LOGFLOW_RETENTION_DAYS",
}


def _load_commands() -> list[EntryPoint]:
    return sorted(entry_points(group="logflow.commands"), key=lambda ep: ep.name)


def build_parser(commands: Sequence[EntryPoint] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logflow", description="logflow: streaming log processing")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for ep in commands if commands is not None else _load_commands():
        group, _, name = ep.name.rpartition(".")
        if group:
            if group not in groups:
                group_parser = top.add_parser(group, help=_HELP.get(group, group))
                groups[group] = group_parser.add_subparsers(dest=f"{group}_command", metavar="COMMAND")
                group_parser.set_defaults(handler=_usage_of(group_parser))
            sub = groups[group].add_parser(name)
        else:
            sub = top.add_parser(name, help=_HELP.get(name, name))
        try:
            configure = ep.load()
        except ImportError as exc:
            # A command whose package cannot be imported (e.g. a missing optional dependency) must not
            # take the whole CLI down with it.
            sub.set_defaults(handler=_unavailable(ep.name, exc))
            continue
        configure(sub)
    parser.set_defaults(handler=_usage_of(parser))
    return parser


def _usage_of(parser: argparse.ArgumentParser) -> Handler:
    def handler(_: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def _unavailable(name: str, exc: Exception) -> Handler:
    def handler(_: argparse.Namespace) -> int:
        print(f"logflow: '{name.replace('.', ' ')}' is unavailable: {exc}", file=sys.stderr)
        return 1

    return handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `logflow parse ... | head` closes stdout early; that is not an error worth a traceback.
        return 0


if __name__ == "__main__":
    sys.exit(main())
