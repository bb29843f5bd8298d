"""``logflow api serve`` and ``logflow api hash-token``."""

from __future__ import annotations

import argparse
import sys


def configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the rules API (uvicorn). Configured from LOGFLOW_* variables; see docs/rules-api.md."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from rules_api.security import TokenConfigError
    from rules_api.settings import ApiSettings, SettingsError

    try:
        settings = ApiSettings.from_env()
        from rules_api.main import create_app

        app = create_app(settings)
    except (SettingsError, TokenConfigError) as exc:
        print(f"logflow api serve: refusing to start: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    tls: dict[str, str] = {}
    if settings.tls_cert:
        tls = {"ssl_certfile": settings.tls_cert, "ssl_keyfile": settings.tls_key}
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # Bounded so a flood of slow clients cannot exhaust the process; reverse proxies go in front.
        limit_concurrency=1000,
        timeout_graceful_shutdown=10,
        server_header=False,
        **tls,  # type: ignore[arg-type]
    )
    return 0


def configure_hash_token(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Read a bearer token on stdin and print its hex SHA-256, for a name:role:sha256hex entry "
        "in LOGFLOW_API_TOKENS or LOGFLOW_API_TOKENS_FILE."
    )
    parser.set_defaults(handler=_hash_token)


def _hash_token(_: argparse.Namespace) -> int:
    from rules_api.security import hash_token

    token = sys.stdin.readline().rstrip("\r\n")
    if not token:
        print("logflow api hash-token: no token on stdin", file=sys.stderr)
        return 2
    print(hash_token(token))
    return 0
