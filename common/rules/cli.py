"""``logflow rules test --rules FILE --lines FILE``: the offline dry run."""

from __future__ import annotations

import argparse
import json
import sys


def configure_test(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Apply rules to log lines offline and print one JSON object per line: the resulting record "
        "(with tags and rule.id hits), or {dropped, rule, event.original} for dropped lines; "
        "alerts appear on the line that raised them."
    )
    parser.add_argument("--rules", required=True, metavar="FILE", help="rules file: .json, .yaml or .yml")
    parser.add_argument(
        "--lines", default="-", metavar="FILE", help="log lines, one message per line ('-' = stdin)"
    )
    parser.set_defaults(handler=run_test)


def run_test(args: argparse.Namespace) -> int:
    from common.rules.dry_run import dry_run
    from common.rules.loading import load_rules_file
    from common.rules.validate import RuleValidationError

    try:
        rules = load_rules_file(args.rules)
    except (OSError, ValueError) as exc:
        print(f"logflow rules test: cannot read rules: {exc}", file=sys.stderr)
        return 2
    try:
        stream = sys.stdin.buffer if args.lines == "-" else open(args.lines, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"logflow rules test: cannot read lines: {exc}", file=sys.stderr)
        return 2
    try:
        out = sys.stdout
        for obj in dry_run(rules, stream):  # type: ignore[arg-type]
            out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
        out.flush()
    except RuleValidationError as exc:
        for error in exc.errors:
            print(f"{args.rules}: {error.path}: {error.message}", file=sys.stderr)
        return 2
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0
