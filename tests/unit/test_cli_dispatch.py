"""The `logflow` dispatcher imports only the command it runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, cast

from common.cli import build_parser, requested_command


@dataclass
class RecordingEntryPoint:
    name: str
    loaded: list[str] = field(default_factory=list)

    def load(self) -> Any:
        self.loaded.append(self.name)

        def configure(parser: argparse.ArgumentParser) -> None:
            parser.add_argument("--flag")
            parser.set_defaults(handler=lambda args: 0)

        return configure


def test_requested_command_is_the_first_word() -> None:
    assert requested_command(["parse", "--timezone", "UTC"]) == "parse"
    assert requested_command(["rules", "list"]) == "rules"
    assert requested_command([]) is None
    assert requested_command(["--help"]) is None
    assert requested_command(["-h", "parse"]) is None


def test_only_the_requested_commands_module_is_loaded() -> None:
    loaded: list[str] = []
    commands = [RecordingEntryPoint(n, loaded) for n in ("parse", "rules.list", "rules.apply", "stack.up")]
    parser = build_parser(cast(Any, commands), only="rules")
    assert sorted(loaded) == ["rules.apply", "rules.list"]
    assert parser.parse_args(["rules", "list", "--flag", "x"]).flag == "x"
    # The commands not loaded still exist as choices, so a typo's message lists them all.
    assert parser.parse_args(["parse"]).command == "parse"


def test_without_a_command_every_module_is_loaded_for_the_help() -> None:
    loaded: list[str] = []
    build_parser(cast(Any, [RecordingEntryPoint(n, loaded) for n in ("parse", "stack.up")]), only=None)
    assert sorted(loaded) == ["parse", "stack.up"]
