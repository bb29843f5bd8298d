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


def requested_command(argv: Sequence[str]) -> str | None:
    """The top-level command ``argv`` asks for (``parse``, ``rules``...), or None (no command, help)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
        if arg in ("-h", "--help"):
            return None
    return None


def build_parser(
    commands: Sequence[EntryPoint] | None = None, only: str | None = None
) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, only that command's modules are imported.

    Loading a command imports its area (the rules engine, the stack tooling, the API client...);
    ``logflow parse`` on a short input spent most of its start-up importing commands it was not
    running. The others still get their sub-parser, so usage and "invalid choice" stay the same.
    """
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
        if only is not None and (group or name) != only:
            continue
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
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=requested_command(arguments))
    args = parser.parse_args(arguments)
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
