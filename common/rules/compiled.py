"""A validated rule compiled for evaluation, and the evaluation plan of a whole rule set."""

from __future__ import annotations

import functools
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import re2

from common.rules.actions import CompiledAction, compile_action
from common.rules.conditions import (
    CHECK_NEEDLE,
    CHECK_PREFIX,
    CHECK_VALUES,
    MISSING,
    CompiledCondition,
    compile_condition,
    field_getter,
)
from common.rules.regex import utf8_bytes


@dataclass(frozen=True, eq=False)
class CompiledRule:
    id: str
    priority: int
    source: dict[str, Any]
    condition: CompiledCondition
    actions: tuple[CompiledAction, ...]
    digest: str  # the canonical JSON of the rule: unchanged rules are not recompiled on a swap

    @functools.cached_property
    def writes(self) -> frozenset[str]:
        return frozenset().union(*(a.writes for a in self.actions))


def rule_digest(rule: Mapping[str, Any]) -> str:
    return json.dumps(rule, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compile_rule(rule: Mapping[str, Any], digest: str | None = None) -> CompiledRule:
    """Compile a rule that has already passed ``validate_rule``."""
    source = json.loads(digest) if digest is not None else json.loads(rule_digest(rule))
    return CompiledRule(
        id=source["id"],
        priority=int(source.get("priority", 0)),
        source=source,
        condition=compile_condition(source["when"]),
        actions=tuple(compile_action(a) for a in source["then"]),
        digest=digest if digest is not None else rule_digest(rule),
    )


def _prefixes(path: str) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b", "a.b.c"]``."""
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True, eq=False)
class Candidate:
    """One distinct condition of a group and the rules that share it (one fact decides them all)."""

    condition: CompiledCondition
    rules: tuple[CompiledRule, ...]

    @property
    def name(self) -> str:
        return self.condition.ruleset_name


# A check as run on a column: (column slot, CHECK_*, arg); see CompiledCondition.checks.
_SlotCheck = tuple[int, int, Any]


# A field's values for a batch, by record index, over the whole batch (MISSING at indices not read).
# A list, not a mapping: compiled, indexing a list by an int is a C array read, with no int object
# made for the index.
ColumnValues = list[Any]


def _keep(
    kind: int, arg: Any, column: ColumnValues, chosen: list[int], only_strings: bool = False
) -> list[int]:
    """The indices in ``chosen`` whose value in ``column`` passes one necessary check.

    Strings are screened exactly; other present values (numbers match as text, arrays by element)
    cannot be, and are left to the fact. ``only_strings``: every value in ``column`` is a string
    (the usual case for the fields these checks read), so the per-value type test can be skipped,
    the bulk of a check's cost besides the search itself.
    """
    if only_strings:
        if kind == CHECK_NEEDLE:
            return [i for i in chosen if arg in column[i]]
        if kind == CHECK_PREFIX:
            return [i for i in chosen if column[i].startswith(arg)]
        if kind == CHECK_VALUES:
            allowed = arg.get(str)
            return [] if allowed is None else [i for i in chosen if column[i] in allowed]
    if kind == CHECK_NEEDLE:
        return [
            i
            for i in chosen
            if (arg in v if type(v := column[i]) is str else v is not None and v is not MISSING)
        ]
    if kind == CHECK_VALUES:
        return [i for i in chosen if (a := arg.get(type(v := column[i]))) is not None and v in a]
    if kind == CHECK_PREFIX:
        return [
            i
            for i in chosen
            if (v.startswith(arg) if type(v := column[i]) is str else v is not None and v is not MISSING)
        ]
    return [i for i in chosen if (v := column[i]) is not None and v is not MISSING]  # CHECK_PRESENT


# Below this many distinct substrings and prefixes, one ``in``/``startswith`` per value and
# literal is cheaper than a call into RE2 per value (on the loghub bench, ~8 substrings cost
# half an RE2 set search).
LITERAL_INDEX_MIN: Final = 16
_LITERAL_KINDS: Final = (CHECK_NEEDLE, CHECK_PREFIX)


class LiteralIndex:
    """Which of many substrings and prefixes each string value has, in one RE2 set search.

    Exact: the literals are matched as bytes over UTF-8 (lone surrogates as in "surrogatepass"),
    whose code points are self-delimiting, so a literal's bytes occur in a value's bytes exactly
    where the literal occurs in the value; a prefix is anchored with ``^`` (start of text).
    Pattern 0 is empty and so matches every value: a search whose answer lacks it has failed
    (RE2 ran out of memory for its automaton), and that value is checked in Python instead.
    """

    def __init__(self, checks: Sequence[tuple[int, str]]) -> None:
        self.checks = tuple(checks)  # (CHECK_NEEDLE or CHECK_PREFIX, literal)
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.log_errors = False
        found = re2._re2.Set(re2._re2.RE2.Anchor.UNANCHORED, options)
        found.Add(b"")
        for kind, literal in self.checks:
            escaped = "".join(f"\\x{byte:02x}" for byte in utf8_bytes(literal))
            found.Add(("^" if kind == CHECK_PREFIX else "").encode("ascii") + escaped.encode("ascii"))
        # A set that did not compile must never be searched (google-re2 would crash).
        self._match = found.Match if found.Compile() else None

    @property
    def usable(self) -> bool:
        return self._match is not None

    def keep(self, column: ColumnValues, chosen: list[int]) -> list[list[int]]:
        """Per check, what ``_keep(kind, literal, column, chosen)`` returns."""
        match = self._match
        assert match is not None
        out: list[list[int]] = [[] for _ in self.checks]
        for i in chosen:
            value = column[i]
            if type(value) is str:
                hits = match(utf8_bytes(value))
                if 0 not in hits:
                    hits = self._slow_hits(value)
                for n in hits:
                    if n:
                        out[n - 1].append(i)
            elif value is not None and value is not MISSING:
                for kept in out:  # present but not a string: left to the fact, as in _keep
                    kept.append(i)
        return out

    def _slow_hits(self, value: str) -> list[int]:
        return [
            n
            for n, (kind, literal) in enumerate(self.checks, 1)
            if (literal in value if kind == CHECK_NEEDLE else value.startswith(literal))
        ]


def _check_key(slot: int, kind: int, arg: Any) -> Hashable:
    """Equal for checks that keep the same records (value sets are dicts of frozensets)."""
    return (slot, kind, frozenset(arg.items()) if kind == CHECK_VALUES else arg)


class Group:
    """The candidate rules for one dataset (or for any dataset).

    ``select`` works column-wise on a batch: each field the checks read is fetched once per record,
    then each distinct condition's cheap necessary checks (an ``eq``/``in`` value set, a substring,
    a prefix, presence) narrow down the records in one comprehension per check, cheapest first.
    Only the records that remain get a fact built and posted to durable-rules, which decides.
    """

    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self.rules = tuple(rules)
        shared: dict[str, list[CompiledRule]] = {}
        for rule in self.rules:
            shared.setdefault(rule.condition.ruleset_name, []).append(rule)
        self.all = tuple(Candidate(rules[0].condition, tuple(rules)) for rules in shared.values())
        slots: dict[str, int] = {}
        programs: list[tuple[Candidate, tuple[_SlotCheck, ...]]] = []
        for candidate in self.all:
            checks = tuple(
                (slots.setdefault(path, len(slots)), kind, arg)
                for path, kind, arg in candidate.condition.checks
            )
            programs.append((candidate, checks))
        self._paths = tuple(slots)
        self._getters = tuple(field_getter(path) for path in slots)
        self._programs = tuple(
            (candidate, _check_key(*checks[0]) if checks else None, checks) for candidate, checks in programs
        )
        self._indexes = _literal_indexes(checks for _, checks in programs)

    @classmethod
    def build(cls, rules: Iterable[CompiledRule]) -> Group:
        return cls(rules)

    def select(
        self,
        records: Sequence[Mapping[str, Any]],
        indices: list[int],
        shared: Columns | None = None,
    ) -> list[tuple[Candidate, list[int]]]:
        """Per candidate condition, the records (indices into ``records``) worth a fact.

        ``shared``, if given, holds the columns other groups (and stages) of the same batch already
        read, over every record they may ask for; columns read here are added to it.
        """
        if shared is None:
            shared = Columns(indices, whole=len(indices) == len(records))
        columns: list[ColumnValues] = []
        strings: list[bool] = []
        for path, get in zip(self._paths, self._getters, strict=True):
            values = shared.columns.get(path)
            if values is None:
                if shared.whole:
                    values = [get(record) for record in records]
                    only_strings = all(type(value) is str for value in values)
                else:
                    values = [MISSING] * len(records)
                    for i in shared.indices:
                        values[i] = get(records[i])
                    only_strings = all(type(values[i]) is str for i in shared.indices)
                shared.columns[path] = values
                shared.strings[path] = only_strings
            columns.append(values)
            strings.append(shared.strings[path])
        out: list[tuple[Candidate, list[int]]] = []
        # Every candidate's first check runs on all of ``indices``: one run per distinct check
        # (many rules test the same level or word), and one set search for many literals.
        firsts: dict[Hashable, list[int]] = {}
        for candidate, first, checks in self._programs:
            chosen = indices
            for n, (slot, kind, arg) in enumerate(checks):
                if n == 0:
                    assert first is not None
                    kept = firsts.get(first)
                    if kept is None:
                        kept = self._first(slot, kind, arg, columns, strings, indices, firsts)
                    chosen = kept
                else:
                    chosen = _keep(kind, arg, columns[slot], chosen, strings[slot])
                if not chosen:
                    break
            else:
                out.append((candidate, chosen))
        return out

    def _first(
        self,
        slot: int,
        kind: int,
        arg: Any,
        columns: list[ColumnValues],
        strings: list[bool],
        indices: list[int],
        firsts: dict[Hashable, list[int]],
    ) -> list[int]:
        """A first check's records, stored in ``firsts`` (with its index's other substrings)."""
        index = self._indexes.get(slot) if kind in _LITERAL_KINDS else None
        if index is not None:
            for (each, literal), kept in zip(index.checks, index.keep(columns[slot], indices), strict=True):
                firsts[_check_key(slot, each, literal)] = kept
            return firsts[_check_key(slot, kind, arg)]
        kept = firsts[_check_key(slot, kind, arg)] = _keep(kind, arg, columns[slot], indices, strings[slot])
        return kept


def _literal_indexes(programs: Iterable[tuple[_SlotCheck, ...]]) -> dict[int, LiteralIndex]:
    """Per slot with many distinct first-check substrings and prefixes, their index."""
    literals: dict[int, dict[tuple[int, str], None]] = {}
    for checks in programs:
        if checks and checks[0][1] in _LITERAL_KINDS:
            slot, kind, literal = checks[0]
            literals.setdefault(slot, {})[(kind, literal)] = None
    indexes = {
        slot: LiteralIndex(list(distinct))
        for slot, distinct in literals.items()
        if len(distinct) >= LITERAL_INDEX_MIN
    }
    return {slot: index for slot, index in indexes.items() if index.usable}


@dataclass
class Columns:
    """Field values read for one batch, by path, over ``indices`` (the whole batch if ``whole``).

    Valid only while the records do not change; all stages of a batch are selected on the records
    before any action runs, so they share one. ``strings[path]``: every value read is a string.
    """

    indices: list[int]
    whole: bool
    columns: dict[str, ColumnValues] = field(default_factory=dict)
    strings: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """Rules whose conditions can all be decided on the same version of a record.

    Rules that only apply to some ``event.dataset`` values are indexed by dataset; each dataset's
    group also holds the rules that apply everywhere, so one record consults one group.
    """

    by_dataset: Mapping[str, Group]
    everywhere: Group
    # Every path a condition of this stage reads, the dataset (which picks the group) included,
    # and every proper prefix of those paths.
    reads: frozenset[str] = frozenset()
    read_parents: frozenset[str] = frozenset()

    def group(self, dataset: Any) -> Group:
        if isinstance(dataset, str):
            return self.by_dataset.get(dataset, self.everywhere)
        return self.everywhere

    def may_read(self, writes: Iterable[str]) -> bool:
        """Whether writing these paths can change what this stage's conditions see.

        A write to ``a`` or to ``a.b.c`` both affect a read of ``a.b`` (as in ``build_plan``).
        """
        reads, parents = self.reads, self.read_parents
        for path in writes:
            if path in reads or path in parents or any(p in reads for p in _prefixes(path)):
                return True
        return False


@dataclass(frozen=True)
class Plan:
    """Active rules in application order, split into stages.

    Rules apply in order (higher priority first, then id). A rule whose condition reads a field an
    earlier rule writes must see that write, so it goes into a later stage, evaluated after the
    earlier stage's actions have run; everything else is decided in one engine round trip.
    """

    ordered: tuple[CompiledRule, ...]
    stages: tuple[Stage, ...]
    order: Mapping[str, int]
    # Per rule id, the stages whose conditions may read what the rule's actions (and the rule.id
    # every match appends to) write: a record it matched is re-checked there.
    affects: Mapping[str, frozenset[int]] = field(default_factory=dict)

    @property
    def ruleset_definitions(self) -> dict[str, str]:
        return {r.condition.ruleset_name: r.condition.definition_json for r in self.ordered}


def build_plan(rules: Iterable[CompiledRule]) -> Plan:
    ordered = tuple(sorted(rules, key=lambda r: (-r.priority, r.id)))
    stage_of: dict[str, int] = {}
    # Latest stage that wrote a path exactly, and that wrote anything strictly below a path: a write
    # to "user" or to "user.name.first" both affect a read of "user.name".
    written: dict[str, int] = {}
    written_below: dict[str, int] = {}
    for rule in ordered:
        stage = 0
        for read in rule.condition.reads:
            for prefix in _prefixes(read):
                if prefix in written:
                    stage = max(stage, written[prefix] + 1)
            if read in written_below:
                stage = max(stage, written_below[read] + 1)
        stage_of[rule.id] = stage
        for path in rule.writes:
            prefixes = _prefixes(path)
            written[path] = max(written.get(path, -1), stage)
            for prefix in prefixes[:-1]:
                written_below[prefix] = max(written_below.get(prefix, -1), stage)
    stages: list[Stage] = []
    for s in range(max(stage_of.values(), default=-1) + 1):
        members = [r for r in ordered if stage_of[r.id] == s]
        by_dataset: dict[str, list[CompiledRule]] = {}
        everywhere: list[CompiledRule] = []
        for rule in members:
            if rule.condition.datasets is None:
                everywhere.append(rule)
            else:
                for dataset in rule.condition.datasets:
                    by_dataset.setdefault(dataset, []).append(rule)
        groups = {
            dataset: Group.build(sorted([*indexed, *everywhere], key=lambda r: (-r.priority, r.id)))
            for dataset, indexed in by_dataset.items()
        }
        reads = frozenset({"event.dataset"}.union(*(r.condition.reads for r in members)))
        parents = frozenset(p for path in reads for p in _prefixes(path)[:-1])
        stages.append(Stage(groups, Group.build(everywhere), reads, parents))
    return Plan(ordered, tuple(stages), {r.id: i for i, r in enumerate(ordered)}, _affects(ordered, stages))


def _affects(rules: Sequence[CompiledRule], stages: Sequence[Stage]) -> dict[str, frozenset[int]]:
    """Per rule id, the stages that may read what the rule writes (``Plan.affects``)."""
    # Most rules write one of a few path sets (tags, a label, the message): ask once per set.
    by_writes: dict[frozenset[str], frozenset[int]] = {}
    out: dict[str, frozenset[int]] = {}
    for rule in rules:
        stages_reading = by_writes.get(rule.writes)
        if stages_reading is None:
            writes = rule.writes | {"rule"}
            stages_reading = by_writes[rule.writes] = frozenset(
                s for s, stage in enumerate(stages) if stage.may_read(writes)
            )
        out[rule.id] = stages_reading
    return out
