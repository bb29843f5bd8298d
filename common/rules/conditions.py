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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.rules.regex import compile_pattern
from common.schema.ecs import get_field

Predicate = Callable[[Any], bool]
_MISSING = object()


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _contains(needle: Any) -> Predicate:
    def check(value: Any) -> bool:
        if isinstance(value, list):
            return any(type(item) is type(needle) and item == needle for item in value)
        text = _as_text(value)
        return text is not None and isinstance(needle, str) and needle in text

    return check


def _startswith(prefix: str) -> Predicate:
    def check(value: Any) -> bool:
        text = _as_text(value)
        return text is not None and text.startswith(prefix)

    return check


def _matches(pattern: str) -> Predicate:
    search = compile_pattern(pattern).search

    def check(value: Any) -> bool:
        text = _as_text(value)
        return text is not None and search(text) is not None

    return check


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    return "s"


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
            make = {"contains": _contains, "startswith": _startswith, "matches": _matches}[op]
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
            if not negate:
                return {f"${op}": {key: value}}
            flipped = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}[op]
            return {"$or": [{"$nex": {key: 1}}, {f"${flipped}": {key: value}}]}
        if op == "in":
            values = list(value)
            parts = [self.leaf({"field": path, "op": "eq", "value": v}, negate) for v in values]
            return _join("$and" if negate else "$or", parts)
        if op == "ne":
            return self.leaf({"field": path, "op": "eq", "value": value}, not negate)
        # eq
        key = f"f{k}_{_kind(value)}"
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


@dataclass(frozen=True)
class CompiledCondition:
    ruleset_name: str  # content-addressed: identical conditions share one registered ruleset
    definition_json: str  # the durable-rules ruleset definition
    fields: tuple[str, ...]
    predicates: tuple[tuple[str, Predicate], ...]
    required_predicates: tuple[int, ...]
    required_values: tuple[tuple[str, frozenset[Any]], ...]  # field must equal one of these
    datasets: frozenset[str] | None  # the record's event.dataset must be one of these, if set
    reads: frozenset[str]

    def fact(self, record: Mapping[str, Any], index: int) -> dict[str, Any] | None:
        """The fact to post for ``record``, or None when a required predicate already fails."""
        for path, allowed in self.required_values:
            value = get_field(record, path, _MISSING)  # type: ignore[arg-type]
            if value is _MISSING or not _is_hashable_scalar(value) or (_kind(value), value) not in allowed:
                return None
        fact: dict[str, Any] = {"_lf": 1, "_i": index}
        values: list[Any] = []
        for path, predicate in self.predicates:
            fact_value = predicate(get_field(record, path, None))  # type: ignore[arg-type]
            values.append(fact_value)
        for i in self.required_predicates:
            if not values[i]:
                return None
        for i, value in enumerate(values):
            fact[f"p{i}"] = value
        for k, path in enumerate(self.fields):
            value = get_field(record, path, None)  # type: ignore[arg-type]
            if value is None:
                continue
            fact[f"x{k}"] = 1
            if isinstance(value, str | int | float):
                if isinstance(value, float) and value != value:
                    continue
                fact[f"f{k}_{_kind(value)}"] = value
            number = as_number(value)
            if number is not None:
                fact[f"n{k}"] = number
        return fact


def _is_hashable_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def compile_condition(when: Mapping[str, Any]) -> CompiledCondition:
    builder = _Builder()
    # The marker keeps a purely negative pattern ($nex) from matching durable-rules' own state object.
    expression = _join("$and", [{"_lf": 1}, builder.expr(when)])
    definition = {"r": {"all": [{"m": expression}]}}
    definition_json = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    name = "lf_" + hashlib.sha256(definition_json.encode()).hexdigest()[:24]

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
