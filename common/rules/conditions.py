"""Compile a rule's ``when`` into a durable-rules condition plus the facts it is evaluated on.

durable-rules evaluates the condition. What it is given per record is a small flat *fact* rather
than the whole record, for speed and for exact semantics:

- ``f<k>_s`` / ``f<k>_n`` / ``f<k>_b``: the field's value under a key typed by JSON kind (string,
  number, boolean), so ``eq "1"`` never matches the number 1 (durable-rules itself would coerce);
- ``n<k>``: the field as a number (numbers and numeric strings), for ``gt``/``gte``/``lt``/``lte``;
- ``x<k>``: present when the field exists (``null`` counts as missing), for ``exists``;
- ``p<k>``: the boolean result of a string predicate (``matches``/``contains``/``startswith``),
  computed with RE2 in Python so regexes run in linear time with one well-defined dialect.

``not`` is pushed down to the leaves (De Morgan), because durable-rules has no negation inside one
event pattern; negated leaves spell out the missing-field case explicitly.

The same facts drive a cheap pre-filter: predicates that must hold for the rule to match (the
top-level conjuncts) are checked before a record is sent to the engine at all.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.rules.regex import compile_pattern

Predicate = Callable[[Any], bool]
_MISSING = object()


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def literal_regex(text: str) -> str:
    """An RE2 pattern matching ``text`` literally (every non-alphanumeric as ``\\x{..}``)."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


class _ScreenablePredicate:
    """A string predicate that also knows its regex, for screening string values in bulk."""

    screen_regex: str | None = None

    def __call__(self, value: Any) -> bool:
        raise NotImplementedError


class _Contains(_ScreenablePredicate):
    def __init__(self, needle: Any) -> None:
        self.needle = needle
        self.screen_regex = literal_regex(needle) if isinstance(needle, str) and needle else None

    def __call__(self, value: Any) -> bool:
        needle = self.needle
        if isinstance(value, list):
            return any(type(item) is type(needle) and item == needle for item in value)
        text = _as_text(value)
        return text is not None and isinstance(needle, str) and needle in text


class _Startswith(_ScreenablePredicate):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.screen_regex = "^" + literal_regex(prefix) if prefix else None

    def __call__(self, value: Any) -> bool:
        text = _as_text(value)
        return text is not None and text.startswith(self.prefix)


class _Matches(_ScreenablePredicate):
    def __init__(self, pattern: str) -> None:
        self.search = compile_pattern(pattern).search
        self.screen_regex = pattern

    def __call__(self, value: Any) -> bool:
        text = _as_text(value)
        return text is not None and self.search(text) is not None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    return "s"


def durable_number(value: float | int) -> float | int:
    """A number as durable-rules' JSON parser can read it.

    It refuses exponent notation without a fraction ("1e+20", "1e-05", which is how Python writes
    such floats) and reads integers as 64-bit. Integers outside that range become floats; integral
    floats inside it become exact ints; other exponent-only floats move one ulp towards zero, which
    gives a mantissa with a fraction. The map is monotonic and applied to rule constants and record
    values alike, so comparisons keep their outcome (up to one ulp).
    """
    if type(value) is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        value = float(value)  # callers keep integers beyond a double's range out
    if type(value) is float:
        text = repr(value)
        if "e" in text and "." not in text.partition("e")[0]:
            if value.is_integer() and _INT64_MIN <= value <= _INT64_MAX:
                return int(value)
            return math.nextafter(value, 0.0)
    return value


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DOUBLE_MAX = 1.7976931348623157e308


def as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if value == value else None
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number == number and number not in (float("inf"), float("-inf")) else None
    return None


@dataclass
class _Builder:
    fields: list[str] = field(default_factory=list)
    predicates: list[tuple[str, Predicate]] = field(default_factory=list)
    predicate_keys: dict[str, str] = field(default_factory=dict)

    def field_index(self, path: str) -> int:
        if path not in self.fields:
            self.fields.append(path)
        return self.fields.index(path)

    def predicate(self, path: str, op: str, value: Any) -> str:
        signature = json.dumps([path, op, value])
        key = self.predicate_keys.get(signature)
        if key is None:
            key = f"p{len(self.predicates)}"
            self.predicate_keys[signature] = key
            make: Callable[[Any], Predicate] = {
                "contains": _Contains,
                "startswith": _Startswith,
                "matches": _Matches,
            }[op]
            self.predicates.append((path, make(value)))
        return key

    def leaf(self, cond: Mapping[str, Any], negate: bool) -> dict[str, Any]:
        path, op, value = cond["field"], cond["op"], cond.get("value", True)
        if op in ("contains", "startswith", "matches"):
            return {self.predicate(path, op, value): not negate}
        k = self.field_index(path)
        if op == "exists":
            present = bool(value) != negate
            return {"$ex" if present else "$nex": {f"x{k}": 1}}
        if op in ("gt", "gte", "lt", "lte"):
            key = f"n{k}"
            number = durable_number(value)
            if not negate:
                return {f"${op}": {key: number}}
            flipped = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}[op]
            return {"$or": [{"$nex": {key: 1}}, {f"${flipped}": {key: number}}]}
        if op == "in":
            values = list(value)
            parts = [self.leaf({"field": path, "op": "eq", "value": v}, negate) for v in values]
            return _join("$and" if negate else "$or", parts)
        if op == "ne":
            return self.leaf({"field": path, "op": "eq", "value": value}, not negate)
        # eq
        key = f"f{k}_{_kind(value)}"
        if key.endswith("_n"):
            value = durable_number(value)
        if not negate:
            return {key: value}
        return {"$or": [{"$nex": {key: 1}}, {"$neq": {key: value}}]}

    def expr(self, cond: Mapping[str, Any], negate: bool = False) -> dict[str, Any]:
        if "not" in cond:
            return self.expr(cond["not"], not negate)
        if "all" in cond:
            return _join("$or" if negate else "$and", [self.expr(c, negate) for c in cond["all"]])
        if "any" in cond:
            return _join("$and" if negate else "$or", [self.expr(c, negate) for c in cond["any"]])
        return self.leaf(cond, negate)


def _join(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {op: parts}


def _conjuncts(cond: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Leaves that must all hold for ``cond`` to hold (the top-level ``all``, flattened)."""
    if "all" in cond:
        out: list[Mapping[str, Any]] = []
        for child in cond["all"]:
            out.extend(_conjuncts(child))
        return out
    if "any" in cond and len(cond["any"]) == 1:
        return _conjuncts(cond["any"][0])
    if "not" in cond or "any" in cond:
        return []
    return [cond]


_KIND_OF_TYPE = {str: "s", int: "n", float: "n", bool: "b"}


def field_getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """A fast accessor for one dotted path; returns ``_MISSING`` when any step is absent."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (key,) = parts

        def get_one(record: Mapping[str, Any]) -> Any:
            return record.get(key, _MISSING)

        return get_one
    if len(parts) == 2:
        first, second = parts

        def get_two(record: Mapping[str, Any]) -> Any:
            node = record.get(first)
            return node.get(second, _MISSING) if isinstance(node, dict) else _MISSING

        return get_two

    def get_path(record: Mapping[str, Any]) -> Any:
        node: Any = record
        for part in parts:
            if not isinstance(node, dict):
                return _MISSING
            node = node.get(part, _MISSING)
            if node is _MISSING:
                return _MISSING
        return node

    return get_path


class CompiledCondition:
    """A rule's condition: its durable-rules ruleset and how to build the fact for a record."""

    def __init__(
        self,
        *,
        ruleset_name: str,
        definition_json: str,
        fields: tuple[str, ...],
        predicates: tuple[tuple[str, Predicate], ...],
        required_predicates: tuple[int, ...],
        required_values: tuple[tuple[str, frozenset[Any]], ...],
        datasets: frozenset[str] | None,
        reads: frozenset[str],
    ) -> None:
        self.ruleset_name = ruleset_name  # content-addressed: identical conditions share a ruleset
        self.definition_json = definition_json
        self.fields = fields
        self.predicates = predicates
        self.required_predicates = required_predicates
        self.required_values = required_values  # (field, {(kind, value)}): must equal one of them
        self.datasets = datasets  # the record's event.dataset must be one of these, if set
        self.reads = reads
        # The first required string predicate as a regex, so that many rules' predicates on the same
        # field can be screened by one RE2 set match per record (see compiled.Group).
        self.screen: tuple[str, str] | None = None
        if required_predicates:
            path, predicate = predicates[required_predicates[0]]
            regex = getattr(predicate, "screen_regex", None)
            if regex is not None:
                self.screen = (path, regex)
        # Precomputed for the hot path: getters, fact keys, and the checks in cheapest-first order.
        self._value_checks = [
            (field_getter(path), _by_type(allowed))
            for path, allowed in required_values
            # The dataset index already guarantees this one before the rule is even considered.
            if not (path == "event.dataset" and datasets is not None)
        ]
        required = set(required_predicates)
        self._first_predicates = [
            (f"p{i}", field_getter(predicates[i][0]), predicates[i][1]) for i in required_predicates
        ]
        self._other_predicates = [
            (f"p{i}", field_getter(path), predicate)
            for i, (path, predicate) in enumerate(predicates)
            if i not in required
        ]
        self._projections = [
            (field_getter(path), f"x{k}", f"f{k}_s", f"f{k}_n", f"f{k}_b", f"n{k}")
            for k, path in enumerate(fields)
        ]

    def fact(self, record: Mapping[str, Any], index: int) -> dict[str, Any] | None:
        """The fact to post for ``record``, or None when a necessary part of the condition fails."""
        for get, allowed in self._value_checks:
            value = get(record)
            values = allowed.get(type(value))
            if values is None or value not in values:
                return None
        fact: dict[str, Any] = {"_lf": 1, "_i": index}
        for key, get, predicate in self._first_predicates:
            value = get(record)
            if value is _MISSING or not predicate(value):
                return None
            fact[key] = True
        for key, get, predicate in self._other_predicates:
            value = get(record)
            fact[key] = value is not _MISSING and predicate(value)
        for get, exists_key, str_key, num_key, bool_key, number_key in self._projections:
            value = get(record)
            if value is _MISSING or value is None:
                continue
            fact[exists_key] = 1
            kind = type(value)
            if kind is str:
                fact[str_key] = value
                number = as_number(value)
                if number is not None:
                    fact[number_key] = durable_number(number)
            elif kind is int or kind is float:
                if value == value and -_DOUBLE_MAX <= value <= _DOUBLE_MAX:
                    value = durable_number(value)
                    fact[num_key] = value
                    fact[number_key] = value
            elif kind is bool:
                fact[bool_key] = value
        return fact


def _by_type(allowed: frozenset[tuple[str, Any]]) -> dict[type, frozenset[Any]]:
    """``{("n", 1), ("s", "x")}`` -> ``{int: {1}, float: {1}, str: {"x"}}``: type lookup, then set lookup."""
    out: dict[type, set[Any]] = {}
    for kind, value in allowed:
        for python_type, k in _KIND_OF_TYPE.items():
            if k == kind:
                out.setdefault(python_type, set()).add(value)
    return {t: frozenset(v) for t, v in out.items()}


def compile_condition(when: Mapping[str, Any]) -> CompiledCondition:
    builder = _Builder()
    # The marker keeps a purely negative pattern ($nex) from matching durable-rules' own state object.
    expression = _join("$and", [{"_lf": 1}, builder.expr(when)])
    definition = {"r": {"all": [{"m": expression}]}}
    # ASCII JSON: durable-rules' C parser rejects raw lone surrogates but handles \u escapes.
    definition_json = json.dumps(definition, sort_keys=True, ensure_ascii=True)
    # The name must capture everything that decides a match, including what the p<k> keys stand for
    # (computed in Python, absent from the definition): same name <=> same condition.
    semantics = json.dumps(
        [
            definition_json,
            sorted(builder.predicate_keys.items(), key=lambda kv: int(kv[1][1:])),
            builder.fields,
        ]
    )
    name = "lf_" + hashlib.sha256(semantics.encode()).hexdigest()[:24]

    required_predicates: list[int] = []
    required_values: list[tuple[str, frozenset[Any]]] = []
    datasets: frozenset[str] | None = None
    for leaf in _conjuncts(when):
        op = leaf["op"]
        if op in ("contains", "startswith", "matches"):
            key = builder.predicate(leaf["field"], op, leaf["value"])
            required_predicates.append(int(key[1:]))
        elif op in ("eq", "in"):
            values = leaf["value"] if op == "in" else [leaf["value"]]
            allowed = frozenset((_kind(v), v) for v in values)
            required_values.append((leaf["field"], allowed))
            if leaf["field"] == "event.dataset" and all(isinstance(v, str) for v in values):
                these = frozenset(values)
                datasets = these if datasets is None else datasets & these
    reads = frozenset(builder.fields) | frozenset(path for path, _ in builder.predicates)
    return CompiledCondition(
        ruleset_name=name,
        definition_json=definition_json,
        fields=tuple(builder.fields),
        predicates=tuple(builder.predicates),
        required_predicates=tuple(required_predicates),
        required_values=tuple(required_values),
        datasets=datasets,
        reads=reads,
    )
