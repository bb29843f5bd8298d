"""``logflow rules list|get|apply|delete|history|rollback|enable|disable``: the API's command line.

They talk to LOGFLOW_API_URL (default the local stack) with LOGFLOW_API_TOKEN, falling back to the
local stack's generated admin token in <LOGFLOW_HOME>/secrets/api-token.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=None, help="API base URL (default $LOGFLOW_API_URL or the local stack)"
    )
    parser.add_argument("--json", action="store_true", help="print raw JSON")


def _run(body: Callable[[Any, argparse.Namespace], int]) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        import httpx

        from rules_api.client.http import ApiError, RulesClient

        try:
            with RulesClient(base_url=args.url) as client:
                return body(client, args)
        except ApiError as exc:
            print(f"logflow rules: {exc}", file=sys.stderr)
            return 1
        except httpx.HTTPError as exc:
            print(f"logflow rules: cannot reach the rules API: {exc}", file=sys.stderr)
            return 1

    return handler


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


# --- list ------------------------------------------------------------------------------------


def configure_list(parser: argparse.ArgumentParser) -> None:
    parser.description = "List rules (id, version, enabled, who changed it last)."
    _common(parser)
    parser.add_argument("--enabled", choices=["true", "false"], default=None)
    parser.add_argument("--tag", default=None)
    parser.add_argument("--dataset", default=None)
    parser.set_defaults(handler=_run(_list))


def _list(client: Any, args: argparse.Namespace) -> int:
    enabled = None if args.enabled is None else args.enabled == "true"
    rules = client.list_rules(enabled=enabled, tag=args.tag, dataset=args.dataset)
    if args.json:
        _print_json(rules)
        return 0
    for item in rules:
        state = "enabled" if item["rule"].get("enabled", True) else "disabled"
        print(f"{item['id']}\tv{item['version']}\t{state}\t{item['updated_at']}\t{item['updated_by']}")
    return 0


# --- get / history ---------------------------------------------------------------------------


def configure_get(parser: argparse.ArgumentParser) -> None:
    parser.description = "Print one rule with its version."
    _common(parser)
    parser.add_argument("id")
    parser.set_defaults(handler=_run(_get))


def _get(client: Any, args: argparse.Namespace) -> int:
    _print_json(client.get(args.id))
    return 0


def configure_history(parser: argparse.ArgumentParser) -> None:
    parser.description = "Print a rule's versions: who changed it, when, and what changed."
    _common(parser)
    parser.add_argument("id")
    parser.set_defaults(handler=_run(_history))


def _history(client: Any, args: argparse.Namespace) -> int:
    versions = client.history(args.id)
    if args.json:
        _print_json(versions)
        return 0
    for entry in versions:
        changes = ", ".join(f"{c['op']} {c['path']}" for c in entry["diff"]) or "-"
        print(
            f"v{entry['version']}\t{entry['action']}\t{entry['updated_at']}\t{entry['updated_by']}\t{changes}"
        )
    return 0


# --- apply -----------------------------------------------------------------------------------


def load_rules_file(path: Path) -> list[Any]:
    """One rule or a list of rules, as JSON or YAML (a ``{"rules": [...]}`` export also works)."""
    text = path.read_text(encoding="utf-8")
    data: Any
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            import yaml

            data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("rules"), list) and "id" not in data:
        data = data["rules"]
    return data if isinstance(data, list) else [data]


def configure_apply(parser: argparse.ArgumentParser) -> None:
    parser.description = "Create or update each rule in a JSON or YAML file; reports the version each got."
    _common(parser)
    parser.add_argument("file", type=Path)
    parser.set_defaults(handler=_apply_handler)


def _apply_handler(args: argparse.Namespace) -> int:
    try:
        rules = load_rules_file(args.file)
    except (OSError, ValueError) as exc:
        print(f"logflow rules apply: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    return _run(lambda client, a: _apply(client, a, rules))(args)


def _apply(client: Any, args: argparse.Namespace, rules: list[Any]) -> int:
    from rules_api.client.http import ApiError

    failed = 0
    for rule in rules:
        rule_id = rule.get("id", "?") if isinstance(rule, dict) else "?"
        try:
            outcome, stored = client.apply(rule if isinstance(rule, dict) else {})
        except ApiError as exc:
            print(f"{rule_id}: failed: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{stored['id']}: {outcome} version {stored['version']}")
    return 1 if failed else 0


# --- delete / rollback / enable / disable ----------------------------------------------------


def configure_delete(parser: argparse.ArgumentParser) -> None:
    parser.description = "Delete a rule (its history stays; the job gets a tombstone)."
    _common(parser)
    parser.add_argument("id")
    parser.set_defaults(handler=_run(_delete))


def _delete(client: Any, args: argparse.Namespace) -> int:
    result = client.delete(args.id)
    print(f"{result['id']}: deleted as version {result['version']}")
    return 0


def configure_rollback(parser: argparse.ArgumentParser) -> None:
    parser.description = "Make an old version of a rule current again, as a new version."
    _common(parser)
    parser.add_argument("id")
    parser.add_argument("version", type=int)
    parser.set_defaults(handler=_run(_rollback))


def _rollback(client: Any, args: argparse.Namespace) -> int:
    stored = client.rollback(args.id, args.version)
    print(f"{stored['id']}: rolled back to version {args.version}, now version {stored['version']}")
    return 0


def _toggle(enabled: bool) -> Callable[[Any, argparse.Namespace], int]:
    def body(client: Any, args: argparse.Namespace) -> int:
        stored = client.set_enabled(args.id, enabled)
        print(f"{stored['id']}: {'enabled' if enabled else 'disabled'}, version {stored['version']}")
        return 0

    return body


def configure_enable(parser: argparse.ArgumentParser) -> None:
    parser.description = "Enable a rule."
    _common(parser)
    parser.add_argument("id")
    parser.set_defaults(handler=_run(_toggle(True)))


def configure_disable(parser: argparse.ArgumentParser) -> None:
    parser.description = "Disable a rule."
    _common(parser)
    parser.add_argument("id")
    parser.set_defaults(handler=_run(_toggle(False)))
