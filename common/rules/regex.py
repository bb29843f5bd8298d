"""Linear-time regular expressions (RE2) for ``matches``, ``extract`` and ``mask``, with grok names.

RE2 has no backtracking, so one search costs time linear in the input whatever the pattern is; that
is the bound on evaluation time. Patterns RE2 cannot compile (backreferences, lookaround) are
rejected at validation time instead of being half-supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from common.schema.rule import REGEX_MAX_MEM_BYTES

# Grok-style building blocks: ``%{NAME}`` or ``%{NAME:field.path}`` in an ``extract`` pattern.
GROK_PATTERNS: dict[str, str] = {
    "INT": r"[+-]?[0-9]+",
    "NUMBER": r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)",
    "WORD": r"\w+",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r'"(?:[^"\\]|\\.)*"',
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"[a-zA-Z0-9._-]+",
    "IPV4": r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])",
    "IPV6": r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
    "IP": r"(?:(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
    r"|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})",
    "HOSTNAME": r"[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?",
    "EMAILADDRESS": r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "PATH": r"(?:/[^\s/]*)+",
    "POSINT": r"[1-9][0-9]*",
    "LOGLEVEL": r"(?i:trace|debug|info|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|alert"
    r"|emerg(?:ency)?|fatal)",
    "MAC": r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}",
}

_GROK_REF = re.compile(r"%\{([A-Z0-9_]+)(?::([A-Za-z_@][A-Za-z0-9_@.-]*))?\}")


class RegexError(ValueError):
    """A pattern that is too long, names an unknown grok pattern, or that RE2 cannot compile."""


@dataclass(frozen=True)
class ExpandedPattern:
    """A pattern with grok references replaced; ``fields`` maps generated group names to paths."""

    pattern: str
    fields: dict[str, str]


def expand_grok(pattern: str) -> ExpandedPattern:
    fields: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        name, target = match.group(1), match.group(2)
        body = GROK_PATTERNS.get(name)
        if body is None:
            raise RegexError(f"unknown grok pattern %{{{name}}}; known: {', '.join(sorted(GROK_PATTERNS))}")
        if target is None:
            return f"(?:{body})"
        # Group names cannot hold dots, so a field path gets a generated group name.
        group = f"grok{len(fields)}"
        fields[group] = target
        return f"(?P<{group}>{body})"

    return ExpandedPattern(_GROK_REF.sub(replace, pattern), fields)


def _options() -> Any:
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM_BYTES
    options.log_errors = False  # errors are reported to the rule author, not to stderr
    return options


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Any:
    """Compile with RE2 (cached: many rules share patterns, and recompiling on swap is wasted work)."""
    # The length limit applies to what the author wrote (checked before grok expansion); expanded
    # grok can be longer, and RE2's max_mem bounds the compiled program either way.
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RegexError(f"RE2 cannot compile this pattern: {detail}") from None


def group_names(compiled: Any) -> set[str]:
    return set(compiled.groupindex)
