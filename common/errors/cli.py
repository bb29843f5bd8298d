"""``logflow errors``: the top error groups from Redis, with count, first and last seen and a sample.

Reads the key schema of ``common.schema.error_groups``; redis is imported inside the handler, so
the CLI's other commands never load it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from common.schema.error_groups import (
    ORDERS,
    ErrorGroup,
    ErrorGroupKeys,
    candidates_query,
    groups_from_replies,
    records_link,
    select,
)

_DURATION = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 30s, 15m, 24h or 7d, got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _positive(text: str) -> int:
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=parse_duration, default=parse_duration("24h"), help="seen in this span (default 24h)"
    )
    parser.add_argument("--new", action="store_true", help="only groups first seen in that span")
    parser.add_argument("--order", choices=ORDERS, default="count", help="sort by (default count)")
    parser.add_argument("--limit", type=_positive, default=20, help="how many groups (default 20)")
    parser.add_argument("--json", action="store_true", help="print the groups as JSON")
    parser.set_defaults(handler=_errors)


def read_groups(client: Any, keys: ErrorGroupKeys, since_epoch: float) -> list[ErrorGroup]:
    """Every group last seen since ``since`` (the most recent MAX_SCAN), from a sync redis client."""
    fingerprints = [str(f) for f in client.execute_command(*candidates_query(keys, since_epoch))]
    if not fingerprints:
        return []
    pipe = client.pipeline(transaction=False)
    for fingerprint in fingerprints:
        pipe.hgetall(keys.group(fingerprint))
    return groups_from_replies(fingerprints, pipe.execute())


def _errors(args: argparse.Namespace) -> int:
    import redis
    from redis.exceptions import RedisError

    from common.errors.settings import ErrorGroupSettings
    from common.settings import ElasticsearchSettings, RedisSettings

    settings = ErrorGroupSettings.from_env()
    keys = ErrorGroupKeys(settings.stats_prefix, settings.window_seconds)
    redis_settings = RedisSettings.from_env()
    client = redis.Redis.from_url(
        redis_settings.url, decode_responses=True, socket_timeout=10, **redis_settings.client_kwargs()
    )
    since = max(0.0, time.time() - args.since)
    try:
        found = read_groups(client, keys, since)
    except RedisError as exc:
        print(f"logflow: cannot read error groups from Redis ({exc}); is the stack up?", file=sys.stderr)
        return 1
    finally:
        client.close()
    groups = select(found, since_epoch=since, new_only=args.new, order=args.order, limit=args.limit)
    if args.json:
        es_url = ElasticsearchSettings.from_env().url
        out = [
            {**g.to_json(), "records": records_link(g.fingerprint, settings.index_prefix, es_url)}
            for g in groups
        ]
        print(json.dumps({"groups": out}, indent=2))
        return 0
    if not groups:
        what = "new error groups" if args.new else "error groups"
        print(f"no {what} seen in that span")
        return 0
    print(
        "{:<18}{:>8}  {:<20}  {:<20}  {}".format("fingerprint", "count", "first seen", "last seen", "sample")
    )
    for g in groups:
        view = g.to_json()
        sample = g.type or g.template or g.message
        sample = sample.split("\n", 1)[0][:80]
        where = "/".join(x for x in (g.service or g.dataset, g.host) if x)
        print(
            "{:<18}{:>8}  {:<20}  {:<20}  {}{}".format(
                g.fingerprint[:17],
                g.count,
                view["first_seen"][:19],
                view["last_seen"][:19],
                sample,
                f"  [{where}]" if where else "",
            )
        )
    return 0
