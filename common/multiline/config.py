"""Joining rules from a JSON/YAML document and the environment; which rule a stream gets.

``LOGFLOW_MULTILINE_RULES``      path of the rules document (JSON or YAML); unset: the ``auto`` rule set
                                 for every stream
``LOGFLOW_MULTILINE_MAX_LINES``  an event is cut after this many lines; default 500
``LOGFLOW_MULTILINE_MAX_BYTES``  ... or this many bytes of joined text; default 262144 (as
                                 ``LOGFLOW_PARSE_MAX_BYTES``: the joined event is parsed whole)
``LOGFLOW_MULTILINE_TIMEOUT_MS`` a stream quiet this long (processing time) emits its pending event;
                                 default 1000

Rules select streams, not datasets: before a line is parsed its dataset is unknown, and a
continuation line (``\\tat ...``) has none of its own. So a rule names topics and/or sources
(globs over the topic name and over the stream's source, ``host|file`` or ``host|container``),
the first matching rule wins, and streams no rule selects get ``default`` (``auto``: every
built-in trace shape). Document layout and examples: docs/multiline.md.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from common.json_types import json_type_name
from common.multiline.rules import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINES,
    DEFAULT_TIMEOUT_MS,
    HALT_WITH,
    MODES,
    JoinRule,
    LineTest,
)
from common.multiline.shapes import BUILTINS
from common.settings import env_int

MAX_RULES: Final = 256
MAX_PATTERN_LENGTH: Final = 1024
MAX_GLOBS: Final = 64
MAX_TIMEOUT_MS: Final = 3_600_000
_TOP_KEYS: Final = {"default", "max_lines", "max_bytes", "timeout_ms", "rules"}
_BOUND_KEYS: Final = ("max_lines", "max_bytes", "timeout_ms")
_RULE_KEYS: Final = {
    "name",
    "topics",
    "sources",
    "builtin",
    "pattern",
    "negate",
    "match",
    "start_pattern",
    "condition_pattern",
    "mode",
    *_BOUND_KEYS,
}


@dataclass(frozen=True)
class ConfigError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class MultilineConfigError(ValueError):
    """A rules document that does not validate; ``errors`` names each fault's JSON path."""

    def __init__(self, errors: list[ConfigError], origin: str = "") -> None:
        self.errors = errors
        where = f"{origin}: " if origin else ""
        shown = "; ".join(str(e) for e in errors[:10]) + (" ..." if len(errors) > 10 else "")
        super().__init__(f"{where}{shown}")


@dataclass(frozen=True)
class MultilineOptions:
    rules_path: str = ""
    max_lines: int = DEFAULT_MAX_LINES
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_ms: int = DEFAULT_TIMEOUT_MS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MultilineOptions:
        env = os.environ if environ is None else environ
        return cls(
            rules_path=env.get("LOGFLOW_MULTILINE_RULES", "").strip(),
            max_lines=env_int(env, "LOGFLOW_MULTILINE_MAX_LINES", DEFAULT_MAX_LINES, 1),
            max_bytes=env_int(env, "LOGFLOW_MULTILINE_MAX_BYTES", DEFAULT_MAX_BYTES, 64),
            timeout_ms=env_int(env, "LOGFLOW_MULTILINE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 1),
        )


@dataclass(frozen=True)
class Selector:
    """Which streams a rule applies to: globs over the topic and over the source (all when empty)."""

    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def selects(self, topic: str, source: str) -> bool:
        if self.topics and not any(fnmatch.fnmatchcase(topic, glob) for glob in self.topics):
            return False
        return not self.sources or any(fnmatch.fnmatchcase(source, glob) for glob in self.sources)


@dataclass
class MultilineConfig:
    """The rules in order and the default; ``rule_for`` answers per stream (cached: once per stream)."""

    rules: list[tuple[Selector, JoinRule]]
    default: JoinRule
    _cache: dict[tuple[str, str], JoinRule] = field(default_factory=dict, repr=False)

    def rule_for(self, topic: str, source: str) -> JoinRule:
        key = (topic, source)
        rule = self._cache.get(key)
        if rule is None:
            rule = next((r for selector, r in self.rules if selector.selects(topic, source)), self.default)
            if len(self._cache) >= 65536:  # sources come from the data: bound the memo
                self._cache.clear()
            self._cache[key] = rule
        return rule


def load_config(options: MultilineOptions | None = None) -> MultilineConfig:
    """The configuration ``options`` (default: the environment) describe."""
    options = MultilineOptions.from_env() if options is None else options
    if not options.rules_path:
        return parse_config({}, options)
    path = Path(options.rules_path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML reads JSON too
    except OSError as exc:
        raise MultilineConfigError(
            [ConfigError("$", f"cannot read: {exc.strerror or exc}")], str(path)
        ) from None
    except yaml.YAMLError as exc:
        raise MultilineConfigError([ConfigError("$", f"not JSON or YAML: {exc}")], str(path)) from None
    return parse_config({} if document is None else document, options, origin=str(path))


def parse_config(
    document: object, options: MultilineOptions | None = None, origin: str = ""
) -> MultilineConfig:
    """Validate ``document`` completely (every error, with its path) and compile its rules."""
    options = MultilineOptions() if options is None else options
    checker = _Checker()
    config = checker.document(document, options)
    if checker.errors or config is None:
        raise MultilineConfigError(checker.errors, origin)
    return config


def _rule(
    name: str,
    *,
    bounds: dict[str, int],
    builtin: str | None = None,
    mode: int = 0,
    condition: LineTest | None = None,
    start: LineTest | None = None,
    negate: bool = False,
) -> JoinRule:
    return JoinRule(
        name,
        builtin=builtin,
        mode=mode,
        condition=condition,
        start=start,
        negate=negate,
        max_lines=bounds["max_lines"],
        max_bytes=bounds["max_bytes"],
        timeout_ms=bounds["timeout_ms"],
    )


class _Checker:
    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(ConfigError(path, message))

    def document(self, doc: object, options: MultilineOptions) -> MultilineConfig | None:
        if not isinstance(doc, dict):
            self.fail("$", f"must be an object, got {json_type_name(doc)}")
            return None
        self.unknown_keys(doc, _TOP_KEYS, "$")
        bounds = {
            "max_lines": options.max_lines,
            "max_bytes": options.max_bytes,
            "timeout_ms": options.timeout_ms,
        }
        bounds.update(self.bounds(doc, "$"))
        default_name = doc.get("default", "auto")
        if not isinstance(default_name, str) or default_name not in BUILTINS:
            self.fail("$.default", f"must be one of {', '.join(BUILTINS)}, got {default_name!r}")
            default_name = "auto"
        default = _rule("default", builtin=default_name, bounds=bounds)
        raw_rules = doc.get("rules", [])
        if not isinstance(raw_rules, list):
            self.fail("$.rules", f"must be an array, got {json_type_name(raw_rules)}")
            raw_rules = []
        if len(raw_rules) > MAX_RULES:
            self.fail("$.rules", f"at most {MAX_RULES} rules, got {len(raw_rules)}")
        rules: list[tuple[Selector, JoinRule]] = []
        names: dict[str, int] = {}
        for index, raw in enumerate(raw_rules[:MAX_RULES]):
            path = f"$.rules[{index}]"
            name = raw.get("name") if isinstance(raw, dict) else None
            if isinstance(name, str) and name in names:
                self.fail(f"{path}.name", f"duplicate name {name!r} (also $.rules[{names[name]}])")
            elif isinstance(name, str):
                names[name] = index
            compiled = self.rule(raw, path, bounds)
            if compiled is not None:
                rules.append(compiled)
        return MultilineConfig(rules, default)

    def unknown_keys(self, obj: dict[Any, Any], allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"{path}.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")

    def bounds(self, obj: dict[Any, Any], path: str) -> dict[str, int]:
        found: dict[str, int] = {}
        limits = {"max_lines": (1, 100_000), "max_bytes": (64, 64 << 20), "timeout_ms": (1, MAX_TIMEOUT_MS)}
        for key in _BOUND_KEYS:
            if key not in obj:
                continue
            value = obj[key]
            low, high = limits[key]
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(f"{path}.{key}", f"must be an integer, got {json_type_name(value)}")
            elif not low <= value <= high:
                self.fail(f"{path}.{key}", f"must be between {low} and {high}, got {value}")
            else:
                found[key] = value
        return found

    def globs(self, obj: dict[Any, Any], key: str, path: str) -> tuple[str, ...]:
        if key not in obj:
            return ()
        value = obj[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(f"{path}.{key}", "must be a non-empty array of glob strings")
            return ()
        if len(value) > MAX_GLOBS:
            self.fail(f"{path}.{key}", f"at most {MAX_GLOBS} globs, got {len(value)}")
        for index, glob in enumerate(value):
            if not isinstance(glob, str) or not glob:
                self.fail(f"{path}.{key}[{index}]", f"must be a non-empty string, got {json_type_name(glob)}")
        return tuple(g for g in value if isinstance(g, str) and g)

    def pattern(self, obj: dict[Any, Any], key: str, path: str) -> LineTest | None:
        from common.rules.regex import RegexError, compile_pattern, search_test

        value = obj[key]
        where = f"{path}.{key}"
        if not isinstance(value, str) or not value:
            self.fail(where, f"must be a non-empty string, got {json_type_name(value)}")
            return None
        if len(value) > MAX_PATTERN_LENGTH:
            self.fail(where, f"at most {MAX_PATTERN_LENGTH} characters, got {len(value)}")
            return None
        try:
            compile_pattern(value)
        except RegexError as exc:
            self.fail(where, str(exc))
            return None
        return search_test(value)

    def rule(self, raw: object, path: str, defaults: dict[str, int]) -> tuple[Selector, JoinRule] | None:
        if not isinstance(raw, dict):
            self.fail(path, f"must be an object, got {json_type_name(raw)}")
            return None
        before = len(self.errors)
        self.unknown_keys(raw, _RULE_KEYS, path)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(f"{path}.name", "required: a non-empty string")
            name = path
        selector = Selector(self.globs(raw, "topics", path), self.globs(raw, "sources", path))
        bounds = {**defaults, **self.bounds(raw, path)}
        kinds = [key for key in ("builtin", "pattern", "condition_pattern") if key in raw]
        if len(kinds) != 1:
            self.fail(
                path,
                "needs exactly one of builtin (a built-in rule set), pattern (Filebeat style) or "
                f"condition_pattern with mode (Vector style); got {', '.join(kinds) or 'none'}",
            )
            return None
        kind = kinds[0]
        rule: JoinRule | None = None
        if kind == "builtin":
            for key in ("negate", "match", "start_pattern", "mode"):
                if key in raw:
                    self.fail(f"{path}.{key}", "not allowed with builtin")
            builtin = raw["builtin"]
            if not isinstance(builtin, str) or builtin not in BUILTINS:
                self.fail(f"{path}.builtin", f"must be one of {', '.join(BUILTINS)}, got {builtin!r}")
            elif len(self.errors) == before:
                rule = _rule(name, builtin=builtin, bounds=bounds)
        elif kind == "pattern":
            rule = self.filebeat_rule(raw, path, name, bounds, before)
        else:
            rule = self.vector_rule(raw, path, name, bounds, before)
        return (selector, rule) if rule is not None and len(self.errors) == before else None

    def filebeat_rule(
        self, raw: dict[Any, Any], path: str, name: str, bounds: dict[str, int], before: int
    ) -> JoinRule | None:
        for key in ("start_pattern", "mode"):
            if key in raw:
                self.fail(f"{path}.{key}", "not allowed with pattern (Filebeat style); use condition_pattern")
        negate = raw.get("negate", False)
        if not isinstance(negate, bool):
            self.fail(f"{path}.negate", f"must be true or false, got {json_type_name(negate)}")
        match = raw.get("match")
        if match not in ("after", "before"):
            self.fail(f"{path}.match", f"required with pattern: after or before, got {match!r}")
        test = self.pattern(raw, "pattern", path)
        if test is None or len(self.errors) != before:
            return None
        if match == "after":
            # Lines that match (or, negated, do not) go after the line before them.
            return _rule(name, mode=MODES["continue_through"], condition=test, negate=negate, bounds=bounds)
        # "before": continuation lines gather up to the next line that is not one, which ends the event.
        return _rule(name, mode=HALT_WITH, condition=test, negate=not negate, bounds=bounds)

    def vector_rule(
        self, raw: dict[Any, Any], path: str, name: str, bounds: dict[str, int], before: int
    ) -> JoinRule | None:
        if "match" in raw:
            self.fail(f"{path}.match", "not allowed with condition_pattern (Vector style); use mode")
        mode = raw.get("mode")
        if not isinstance(mode, str) or mode not in MODES:
            self.fail(
                f"{path}.mode", f"required with condition_pattern: one of {', '.join(MODES)}, got {mode!r}"
            )
        negate = raw.get("negate", False)
        if not isinstance(negate, bool):
            self.fail(f"{path}.negate", f"must be true or false, got {json_type_name(negate)}")
        condition = self.pattern(raw, "condition_pattern", path)
        start = self.pattern(raw, "start_pattern", path) if "start_pattern" in raw else None
        if condition is None or len(self.errors) != before or not isinstance(mode, str):
            return None
        return _rule(name, mode=MODES[mode], condition=condition, start=start, negate=negate, bounds=bounds)
