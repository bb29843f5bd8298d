"""``logflow multiline``: try joining rules on a log file before the job uses them.

Reads lines from stdin (split on ``\\n`` only), one line per Kafka message of one stream, and
writes one JSON object per joined event, in order. ``--check`` only validates the rules document.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from common.multiline.pool import RuleFor


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Join stdin's lines into multi-line events as the job will (one line per message of one stream) "
        "and print one JSON object per event. Defaults come from LOGFLOW_MULTILINE_* variables."
    )
    parser.add_argument("--rules", help="rules document (JSON or YAML); default LOGFLOW_MULTILINE_RULES")
    parser.add_argument("--topic", default="logs", help="topic the lines are taken to come from (selection)")
    parser.add_argument("--source", default="", help="stream source, host|file or host|container (selection)")
    parser.add_argument("--check", action="store_true", help="only validate the rules document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from common.multiline.config import MultilineOptions, load_config

    try:
        options = MultilineOptions.from_env()
        if args.rules is not None:
            options = replace(options, rules_path=args.rules)
        config = load_config(options)
    except ValueError as exc:
        print(f"logflow multiline: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for selector, rule in config.rules:
            print(f"{rule!r} topics={list(selector.topics)} sources={list(selector.sources)}")
        print(f"default: {config.default!r}")
        return 0
    return join_stream(sys.stdin.buffer, sys.stdout, config.rule_for, args.topic, args.source)


def join_stream(source: BinaryIO, sink: TextIO, rule_for: RuleFor, topic: str, stream_source: str) -> int:
    """Join ``source``'s lines as one stream (offsets from 0) and write each event as a JSON line."""
    from common.multiline.pool import join_all
    from common.multiline.stream import StreamLine, record_id

    def lines() -> Iterator[StreamLine]:
        for offset, raw in enumerate(source):
            text = raw.decode("utf-8", "replace")
            if text.endswith("\n"):
                text = text[:-1]
            yield StreamLine(topic, 0, offset, 0, stream_source, text)

    for event in join_all(lines(), rule_for):
        summary = {
            "id": record_id(event),
            "offsets": [event.offsets[0], event.offsets[-1]],
            "line_count": event.line_count,
            "byte_size": event.byte_size,
            "truncated": event.truncated,
            "continued": event.continued,
            "text": event.text,
        }
        sink.write(json.dumps(summary, ensure_ascii=False))
        sink.write("\n")
    sink.flush()
    return 0
