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

A fact holds only the keys the condition refers to. The top-level conjuncts of a condition are
*necessary* conditions: ``checks`` lists the cheap ones (a value set, a substring or prefix, presence)
for the candidate index in ``compiled.Group``, and ``fact`` returns None when one of them fails, so
such a record is never sent to the engine; every fact that is sent is decided by durable-rules.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from common.rules.regex import compile_pattern, required_count, required_literal, search_test

Predicate = Callable[[Any], bool]
MISSING: Final = object()


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


class _Contains:
    def __init__(self, needle: Any) -> None:
        self.needle = needle

    def __call__(self, value: Any) -> bool:
        needle = self.needle
        if isinstance(value, list):
            return any(type(item) is type(needle) and item == needle for item in value)
        text = _as_text(value)
        return text is not None and isinstance(needle, str) and needle in text


class _Startswith:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, value: Any) -> bool:
        text = _as_text(value)
        return text is not None and text.startswith(self.prefix)


class _Matches:
    def __init__(self, pattern: str) -> None:
        compile_pattern(pattern)  # validation's compile, cached: fail here rather than below
        self.test = search_test(pattern)
        # A substring every match contains: where it is absent, the (costlier) search cannot match.
        self.needle = required_literal(pattern)
        # One call into RE2 costs about what a search over a log line does: a text without enough
        # of some required character (the IPv4 pattern's three dots) is cheaper to count.
        self.count = required_count(pattern)

    def __call__(self, value: Any) -> bool:
        text = value if type(value) is str else _as_text(value)
        if text is None:
            return False
        needle = self.needle
        if needle is not None and needle not in text:
            return False
        count = self.count
        if count is not None and text.count(count[0]) < count[1]:
            return False
        found: bool = self.test(text)
        return found


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
MATCHES_PER_ACTION: Final = 1000
_DOUBLE_MAX: Final = 1.7976931348623157e308


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


_PREDICATE_MAKERS: Final[dict[str, Callable[[Any], Predicate]]] = {
    "contains": _Contains,
    "startswith": _Startswith,
    "matches": _Matches,
}


@dataclass
class _Builder:
    fields: list[str] = field(default_factory=list)
    predicates: list[tuple[str, Predicate]] = field(default_factory=list)
    predicate_keys: dict[str, str] = field(default_factory=dict)
    # The per-field fact keys the definition refers to: only those are put into facts.
    used: set[str] = field(default_factory=set)
    # False when only the definition's shape is wanted (durable_groups): no regex is compiled.
    with_predicates: bool = True

    def field_index(self, path: str) -> int:
        if path not in self.fields:
            self.fields.append(path)
        return self.fields.index(path)

    def use(self, key: str) -> str:
        self.used.add(key)
        return key

    def predicate(self, path: str, op: str, value: Any) -> str:
        signature = json.dumps([path, op, value])
        key = self.predicate_keys.get(signature)
        if key is None:
            key = f"p{len(self.predicate_keys)}"
            self.predicate_keys[signature] = key
            if self.with_predicates:
                self.predicates.append((path, _PREDICATE_MAKERS[op](value)))
        return key

    def leaf(self, cond: Mapping[str, Any], negate: bool) -> dict[str, Any]:
        path, op, value = cond["field"], cond["op"], cond.get("value", True)
        if op in ("contains", "startswith", "matches"):
            return {self.predicate(path, op, value): not negate}
        k = self.field_index(path)
        if op == "exists":
            present = bool(value) != negate
            return {"$ex" if present else "$nex": {self.use(f"x{k}"): 1}}
        if op in ("gt", "gte", "lt", "lte"):
            key = self.use(f"n{k}")
            number = durable_number(value)
            if not negate:
                return {f"${op}": {key: number}}
            flipped = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}[op]
            return {"$or": [{"$nex": {key: 1}}, {f"${flipped}": {key: number}}]}
        if op == "in":
            if not negate:
                return _join("$or", [{key: v} for key, v in (self.eq_key(k, v) for v in value)])
            # "None of these": per typed key, the key is absent or differs from each value. This is
            # the AND over values of (absent or differs), factored so that a long list costs two
            # groups, not one per value (durable-rules bounds the groups of a condition).
            differs: dict[str, list[dict[str, Any]]] = {}
            for key, v in (self.eq_key(k, v) for v in value):
                differs.setdefault(key, []).append({"$neq": {key: v}})
            return _join(
                "$and",
                [_join("$or", [{"$nex": {key: 1}}, _join("$and", ne)]) for key, ne in differs.items()],
            )
        if op == "ne":
            return self.leaf({"field": path, "op": "eq", "value": value}, not negate)
        # eq
        key, value = self.eq_key(k, value)
        if not negate:
            return {key: value}
        return {"$or": [{"$nex": {key: 1}}, {"$neq": {key: value}}]}

    def eq_key(self, k: int, value: Any) -> tuple[str, Any]:
        """The typed fact key field ``k`` is compared on for ``eq value``, and the value as posted."""
        key = self.use(f"f{k}_{_kind(value)}")
        return key, durable_number(value) if key.endswith("_n") else value

    def expr(self, cond: Mapping[str, Any], negate: bool = False) -> dict[str, Any]:
        if "not" in cond:
            return self.expr(cond["not"], not negate)
        if "all" in cond:
            return _join("$or" if negate else "$and", [self.expr(c, negate) for c in cond["all"]])
        if "any" in cond:
            return _join("$and" if negate else "$or", [self.expr(c, negate) for c in cond["any"]])
        return self.leaf(cond, negate)


def _join(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """``{op: parts}``, with a part that is itself an ``op`` group merged into it.

    Merging keeps the meaning and spends fewer groups, which durable-rules bounds (see
    ``durable_groups``).
    """
    if len(parts) == 1:
        return parts[0]
    merged: list[dict[str, Any]] = []
    for part in parts:
        inner = part.get(op) if len(part) == 1 else None
        if isinstance(inner, list):
            merged.extend(inner)
        else:
            merged.append(part)
    return {op: merged}


def _groups(expression: Mapping[str, Any]) -> int:
    """The ``$and``/``$or`` groups in a durable-rules expression, nested ones included."""
    total = 0
    for op, operand in expression.items():
        if op in ("$and", "$or"):
            total += 1 + sum(_groups(part) for part in operand)
    return total


def _definition_expression(builder: _Builder, when: Mapping[str, Any]) -> dict[str, Any]:
    # The marker keeps a purely negative pattern ($nex) from matching durable-rules' own state object.
    return _join("$and", [{"_lf": 1}, builder.expr(when)])


def durable_groups(when: Mapping[str, Any]) -> int:
    """How many and/or groups durable-rules builds for this (valid) condition.

    durable-rules keeps a pattern's groups in a sequence with room for 31 entries, two per group
    (an opening and an end), and refuses the ruleset beyond that ("error code: 113"); validation
    uses this count so that the API never accepts a rule the job cannot load (docs/rules.md).
    """
    return _groups(_definition_expression(_Builder(with_predicates=False), when))


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


_KIND_OF_TYPE: Final = {str: "s", int: "n", float: "n", bool: "b"}


def field_getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """A fast accessor for one dotted path; returns ``MISSING`` when any step is absent."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (key,) = parts

        def get_one(record: Mapping[str, Any]) -> Any:
            return record.get(key, MISSING)

        return get_one
    if len(parts) == 2:
        first, second = parts

        def get_two(record: Mapping[str, Any]) -> Any:
            node = record.get(first)
            return node.get(second, MISSING) if isinstance(node, dict) else MISSING

        return get_two

    def get_path(record: Mapping[str, Any]) -> Any:
        node: Any = record
        for part in parts:
            if not isinstance(node, dict):
                return MISSING
            node = node.get(part, MISSING)
            if node is MISSING:
                return MISSING
        return node

    return get_path


# Necessary-condition checks, for the candidate index (compiled.Group) to run on a field's value.
CHECK_VALUES: Final = 0  # the value is one of a set (type-strict): arg is {type: frozenset of values}
CHECK_PREFIX: Final = 1  # a string value starts with arg; any other present value cannot be screened
CHECK_NEEDLE: Final = 2  # a string value contains arg; any other present value cannot be screened
CHECK_PRESENT: Final = 3  # the value is present and not null
Check = tuple[str, int, Any]  # (field path, CHECK_*, arg)


Column = Callable[[Sequence[Mapping[str, Any]], Sequence[int]], dict[int, Any]]


def field_column(path: str) -> Column:
    """``(records, indices) -> {index: value}`` for one dotted path (``MISSING`` when absent).

    One comprehension per batch rather than one getter call per record: the pre-filter reads
    fields column-wise.
    """
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (key,) = parts

        def column_one(records: Sequence[Mapping[str, Any]], indices: Sequence[int]) -> dict[int, Any]:
            return {i: records[i].get(key, MISSING) for i in indices}

        return column_one
    if len(parts) == 2:
        first, second = parts

        def column_two(records: Sequence[Mapping[str, Any]], indices: Sequence[int]) -> dict[int, Any]:
            return {
                i: node.get(second, MISSING) if isinstance(node := records[i].get(first), dict) else MISSING
                for i in indices
            }

        return column_two
    get = field_getter(path)

    def column_path(records: Sequence[Mapping[str, Any]], indices: Sequence[int]) -> dict[int, Any]:
        return {i: get(records[i]) for i in indices}

    return column_path


class CompiledCondition:
    """A rule's condition: its durable-rules ruleset and how to build the fact for a record."""

    def __init__(
        self,
        *,
        ruleset_name: str,
        definition_json: str,
        fields: tuple[str, ...],
        used: frozenset[str],
        predicates: tuple[tuple[str, Predicate], ...],
        required_predicates: tuple[int, ...],
        required_values: tuple[tuple[str, frozenset[Any]], ...],
        checks: tuple[Check, ...],
        datasets: frozenset[str] | None,
        reads: frozenset[str],
    ) -> None:
        self.ruleset_name = ruleset_name  # content-addressed: identical conditions share a ruleset
        self.definition_json = definition_json
        self.fields = fields
        self.predicates = predicates
        self.required_predicates = required_predicates
        self.required_values = required_values  # (field, {(kind, value)}): must equal one of them
        self.checks = checks  # necessary and cheap, cheapest first; see CHECK_*
        self._datasets = datasets
        self.reads = reads
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

        # Only the keys the definition refers to: anything else would be serialised, shipped and
        # parsed by durable-rules for nothing (and the numeric view of a string costs a float()).
        def key(name: str) -> str | None:
            return name if name in used else None

        self._projections = [
            (field_getter(path), key(f"x{k}"), key(f"f{k}_s"), key(f"f{k}_n"), key(f"f{k}_b"), key(f"n{k}"))
            for k, path in enumerate(fields)
        ]

    @property
    def datasets(self) -> frozenset[str] | None:
        """The record's event.dataset must be one of these, if set (the plan indexes by it)."""
        return self._datasets

    def fact(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The fact to post for ``record``, or None when a necessary part of the condition fails.

        It holds what the condition reads and nothing that identifies the record: records whose
        facts are equal are decided alike, so the poster sends one of them (see ``decide.py``).
        """
        for get, allowed in self._value_checks:
            value = get(record)
            values = allowed.get(type(value))
            if values is None or value not in values:
                return None
        fact: dict[str, Any] = {"_lf": 1}
        for key, get, predicate in self._first_predicates:
            value = get(record)
            if value is MISSING or not predicate(value):
                return None
            fact[key] = True
        return self._complete(fact, record)

    def full_fact(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The fact without any pre-filtering: durable-rules alone decides (for tests)."""
        fact: dict[str, Any] = {"_lf": 1}
        for key, get, predicate in self._first_predicates:
            value = get(record)
            fact[key] = value is not MISSING and predicate(value)
        return self._complete(fact, record)

    def _complete(self, fact: dict[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        for key, get, predicate in self._other_predicates:
            value = get(record)
            fact[key] = value is not MISSING and predicate(value)
        for get, exists_key, str_key, num_key, bool_key, number_key in self._projections:
            value = get(record)
            if value is MISSING or value is None:
                continue
            if exists_key is not None:
                fact[exists_key] = 1
            kind = type(value)
            if kind is str:
                if str_key is not None:
                    fact[str_key] = value
                if number_key is not None:
                    number = as_number(value)
                    if number is not None:
                        fact[number_key] = durable_number(number)
            elif kind is int or kind is float:
                if (num_key is not None or number_key is not None) and (
                    value == value and -_DOUBLE_MAX <= value <= _DOUBLE_MAX
                ):
                    value = durable_number(value)
                    if num_key is not None:
                        fact[num_key] = value
                    if number_key is not None:
                        fact[number_key] = value
            elif kind is bool and bool_key is not None:
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
    expression = _definition_expression(builder, when)
    # "cap": durable-rules hands over up to this many matched events in one action, so the host
    # drains a batch's matches in one call instead of one call (and one JSON parse) per match.
    definition = {"r": {"all": [{"m": expression}], "cap": MATCHES_PER_ACTION}}
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
    checks: list[tuple[int, int, Check]] = []  # (cost rank, tie-breaker, check)
    for leaf in _conjuncts(when):
        path, op, value = leaf["field"], leaf["op"], leaf.get("value", True)
        if op in ("contains", "startswith", "matches"):
            key = builder.predicate(path, op, value)
            required_predicates.append(int(key[1:]))
            checks.append(_string_check(path, op, value, builder.predicates[int(key[1:])][1]))
        elif op in ("eq", "in"):
            values = value if op == "in" else [value]
            allowed = frozenset((_kind(v), v) for v in values)
            required_values.append((path, allowed))
            if path == "event.dataset" and all(isinstance(v, str) for v in values):
                these = frozenset(values)
                datasets = these if datasets is None else datasets & these
        elif op in ("exists", "gt", "gte", "lt", "lte") and value is not False:
            checks.append((1, 0, (path, CHECK_PRESENT, None)))
    for path, allowed in required_values:
        if not (path == "event.dataset" and datasets is not None):  # the dataset index ensures it
            checks.append((0, 0, (path, CHECK_VALUES, _by_type(allowed))))
    reads = frozenset(builder.fields) | frozenset(path for path, _ in builder.predicates)
    return CompiledCondition(
        ruleset_name=name,
        definition_json=definition_json,
        fields=tuple(builder.fields),
        used=frozenset(builder.used),
        predicates=tuple(builder.predicates),
        required_predicates=tuple(required_predicates),
        required_values=tuple(required_values),
        checks=tuple(check for _, _, check in sorted(checks, key=lambda c: c[:2])),
        datasets=datasets,
        reads=reads,
    )


def _string_check(path: str, op: str, value: Any, predicate: Predicate) -> tuple[int, int, Check]:
    """The cheap necessary check for a required string predicate, ranked by cost."""
    if op == "startswith" and value:
        return 2, 0, (path, CHECK_PREFIX, value)
    needle = getattr(predicate, "needle", None)
    if isinstance(needle, str) and needle:
        return 3, -len(needle), (path, CHECK_NEEDLE, needle)  # longer needles reject more
    return 1, 0, (path, CHECK_PRESENT, None)  # a missing or null field fails any predicate
