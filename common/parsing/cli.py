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
    from common.schema.ecs import to_json

    assert isinstance(options, ParseOptions)
    encode = _pretty if pretty else to_json  # orjson: a quarter of json.dumps' cost per record
    if options.otlp == "proto":  # binary: newlines are bytes of the message, not separators
        data = source.read()
        if data:
            for record in parse_messages(data, options):
                sink.write(encode(record) + "\n")
        sink.flush()
        return 0
    pending: list[str] = []
    for line in source:  # binary readline splits on b"\n" only, never on \r or Unicode separators
        if line.endswith(b"\n"):
            line = line[:-1]
        if not line:
            continue
        for record in parse_messages(line, options):
            pending.append(encode(record))
        # One write per many records instead of two per record.
        if flush or len(pending) >= _WRITE_BATCH:
            _write(sink, pending, flush)
    _write(sink, pending, True)
    return 0


# Records gathered per write to stdout when nobody watches it line by line (--flush, a terminal).
_WRITE_BATCH = 512


def _write(sink: TextIO, lines: list[str], flush: bool) -> None:
    if lines:
        lines.append("")
        sink.write("\n".join(lines))
        lines.clear()
    if flush:
        sink.flush()


def _pretty(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2)
