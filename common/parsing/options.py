"""Knobs for parsing, read once from the environment.

``LOGFLOW_PARSE_TIMEZONE``   zone for stamps that carry none (IANA name, ``UTC`` or ``+HH:MM``); default UTC.
``LOGFLOW_PARSE_MAX_BYTES``  longer messages are truncated to this many bytes and tagged; default 262144.
``LOGFLOW_PARSE_MAX_JSON_DEPTH``  JSON nested deeper than this is kept as a string; default 32.
``LOGFLOW_PARSE_MAX_LABELS``  at most this many extra keys go to ``labels``; default 256.
``LOGFLOW_PARSE_OTLP``  OTLP log requests: ``auto`` (recognised by their first bytes, the default),
                        ``json`` or ``proto`` (every message is one), ``off`` (never looked for).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from common.settings import env_int

DEFAULT_MAX_BYTES: Final = 256 * 1024
DEFAULT_MAX_JSON_DEPTH: Final = 32
DEFAULT_MAX_LABELS: Final = 256


def parse_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``LOGFLOW_PARSE_*`` settings, to carry from where a job is submitted to its workers, which
    do not inherit the submitter's environment; ``ParseOptions.from_env`` takes them back."""
    env = os.environ if environ is None else environ
    return {name: value for name, value in env.items() if name.startswith("LOGFLOW_PARSE_")}


@dataclass(frozen=True)
class ParseOptions:
    """How :func:`common.parsing.parse_message` treats what the log line does not say itself.

    ``clock`` returns epoch seconds; it supplies ``event.ingested``, the year of year-less stamps and
    the fallback ``@timestamp``. Tests inject a fixed clock.
    """

    timezone: str = "UTC"
    max_message_bytes: int = DEFAULT_MAX_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_labels: int = DEFAULT_MAX_LABELS
    otlp: str = "auto"
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def __post_init__(self) -> None:
        if self.max_message_bytes < 64:
            raise ValueError("max_message_bytes must be >= 64")
        if self.max_json_depth < 1:
            raise ValueError("max_json_depth must be >= 1")
        if self.otlp not in ("auto", "json", "proto", "off"):
            raise ValueError(f"otlp must be auto, json, proto or off, not {self.otlp!r}")
        # Fail at construction, not on the first zone-less line, when the zone name is wrong.
        from common.parsing.timestamps import resolve_zone

        resolve_zone(self.timezone)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ParseOptions:
        env = os.environ if environ is None else environ
        return cls(
            timezone=env.get("LOGFLOW_PARSE_TIMEZONE", "").strip() or "UTC",
            max_message_bytes=env_int(env, "LOGFLOW_PARSE_MAX_BYTES", DEFAULT_MAX_BYTES, 64),
            max_json_depth=env_int(env, "LOGFLOW_PARSE_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH, 1),
            max_labels=env_int(env, "LOGFLOW_PARSE_MAX_LABELS", DEFAULT_MAX_LABELS, 0),
            otlp=env.get("LOGFLOW_PARSE_OTLP", "").strip().lower() or "auto",
        )
