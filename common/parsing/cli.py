"""``logflow parse``: JSON records for each non-empty stdin line (split on ``\\n`` only), in order: one
per line, or one per log record for a line that is an OTLP logs request (``otlp_json``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import BinaryIO, TextIO


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Parse log lines from stdin into ECS JSON records, one per non-empty line, in order; a line "
        "holding an OTLP logs request (otlp_json) gives one record per log record, so one line may "
        "give several output lines. A file that is one otlp_proto message: --otlp proto. "
        "Defaults come from LOGFLOW_PARSE_* environment variables."
    )
    parser.add_argument("--timezone", help="zone for stamps without one (IANA name, UTC or +HH:MM)")
    parser.add_argument("--max-bytes", type=int, help="truncate longer lines to this many bytes")
    parser.add_argument("--max-json-depth", type=int, help="keep JSON nested deeper than this as text")
    parser.add_argument(
        "--otlp",
        choices=("auto", "json", "proto", "off"),
        help="OTLP requests: recognised (auto), every input is one (json; proto reads all of stdin as "
        "one protobuf message), or never looked for (off)",
    )
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    parser.add_argument(
        "--flush", action="store_true", help="flush after every record (default when stdout is a terminal)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from common.parsing import ParseOptions

    try:
        options = ParseOptions.from_env()
        overrides = {
            name: value
            for name, value in (
                ("timezone", args.timezone),
                ("max_message_bytes", args.max_bytes),
                ("max_json_depth", args.max_json_depth),
                ("otlp", args.otlp),
            )
            if value is not None
        }
        if overrides:
            options = replace(options, **overrides)
    except ValueError as exc:
        print(f"logflow parse: {exc}", file=sys.stderr)
        return 2
    return parse_stream(sys.stdin.buffer, sys.stdout, options, args.pretty, args.flush or sys.stdout.isatty())


def parse_stream(
    source: BinaryIO, sink: TextIO, options: object, pretty: bool = False, flush: bool = False
) -> int:
    """Parse each non-empty line of ``source`` (binary, split on ``\\n``); write JSON lines to ``sink``."""
    from common.parsing import ParseOptions, parse_messages

    assert isinstance(options, ParseOptions)
    indent = 2 if pretty else None
    if options.otlp == "proto":  # binary: newlines are bytes of the message, not separators
        data = source.read()
        if data:
            for record in parse_messages(data, options):
                sink.write(json.dumps(record, ensure_ascii=False, indent=indent))
                sink.write("\n")
        sink.flush()
        return 0
    for line in source:  # binary readline splits on b"\n" only, never on \r or Unicode separators
        if line.endswith(b"\n"):
            line = line[:-1]
        if not line:
            continue
        for record in parse_messages(line, options):
            sink.write(json.dumps(record, ensure_ascii=False, indent=indent))
            sink.write("\n")
        if flush:
            sink.flush()
    sink.flush()
    return 0
