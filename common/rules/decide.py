"""Which records match which rules: facts per stage, posted to the engine host in one round trip.

A batch's stages are all decided in one host round trip, on the records as they are before any
action runs. That is exact for stage 0. For a later stage it is a speculation: it stays valid for
every record no earlier action has changed. A record some earlier rule matched (its actions may
have written what this stage reads) gets its facts for this stage rebuilt once the earlier stages'
actions have run; where they equal the speculative ones, durable-rules' answer cannot differ (a
fact is the whole input of its decision), and only records whose facts differ are re-posted, in a
second round trip that most batches never need.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from common.rules.compiled import Columns, CompiledRule, Group, Stage
from common.rules.conditions import field_column
from common.schema.ecs import EcsRecord

_datasets = field_column("event.dataset")
# ASCII JSON, as for the definitions: any string a record holds reaches the engine intact. Facts
# hold only strings, finite numbers and booleans, so the circularity check is wasted work.
_encode = json.JSONEncoder(ensure_ascii=True, check_circular=False).encode

Fact = dict[str, Any]
# Records whose event.dataset is not a string consult the stage's "everywhere" group; no dataset
# name equals this key.
_NOT_A_NAME: Final = object()
Evaluate = Callable[[list[tuple[str, str]]], list[list[int]]]


def fact_key(fact: Fact) -> Hashable:
    """Equal for facts durable-rules cannot tell apart (so only one of them is posted).

    Content with the type of each value: True, 1 and 1.0 are equal in Python but not in JSON.
    Facts hold only strings, finite numbers and booleans, so the one pair of equal keys with
    different JSON left is 0.0/-0.0, which no comparison tells apart.
    """
    return (tuple(fact.items()), tuple(map(type, fact.values())))


class Decisions:
    """durable-rules' answers, by ruleset and fact, kept from batch to batch.

    A fact is the whole input of its decision, and a ruleset's name is a digest of its definition,
    so an answer holds for every later record with an equal fact under that name: only facts not
    seen before are posted (per batch, usually a handful). Bounded: emptied when full, and by the
    engine on every rule-set change (names no longer active would only take up room).
    """

    __slots__ = ("_answers", "limit")

    def __init__(self, limit: int = 16384) -> None:
        self.limit = limit
        self._answers: dict[tuple[str, Hashable], bool] = {}

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, name: str, key: Hashable) -> bool | None:
        return self._answers.get((name, key))

    def put(self, name: str, key: Hashable, matched: bool) -> None:
        if len(self._answers) >= self.limit:
            self._answers.clear()
        self._answers[(name, key)] = matched

    def clear(self) -> None:
        self._answers.clear()


@dataclass
class Entry:
    """One candidate condition's facts in a posting: per record index, its fact."""

    name: str  # the condition's ruleset
    rules: tuple[CompiledRule, ...]  # the rules sharing the condition
    indices: list[int]
    facts: list[Fact]
    # Filled in by ``Posting.requests``, per distinct fact in order of first appearance: its
    # records and its key; the positions of those already known to match, and of those posted
    # (in posting order).
    sharing: list[list[int]] | None = None
    keys: list[Hashable] | None = None
    known_hits: list[int] | None = None
    posted_at: list[int] | None = None


@dataclass
class Posting:
    """One stage's facts for some records, per ruleset, and which rules each ruleset decides.

    A fact is the whole input of its decision (one event pattern, no state shared between events),
    so records with equal facts get the same answer: each distinct fact is posted once (or not at
    all when ``Decisions`` already holds its answer), and its answer holds for all its records.
    ``answers`` is filled in with the positions, among an entry's distinct facts, that matched.
    """

    entries: list[Entry]
    answers: list[list[int]] | None = None

    def requests(self, ids: Iterator[int], known: Decisions | None = None) -> list[tuple[str, str]]:
        """One request per entry with a fact to post (entries fully decided by ``known`` send none)."""
        out: list[tuple[str, str]] = []
        for entry in self.entries:
            distinct: dict[Hashable, list[int]] = {}
            firsts: list[Fact] = []
            for i, fact in zip(entry.indices, entry.facts, strict=True):
                key = fact_key(fact)
                records = distinct.get(key)
                if records is None:
                    distinct[key] = [i]
                    firsts.append(fact)
                else:
                    records.append(i)
            keys = list(distinct)
            entry.sharing, entry.keys = list(distinct.values()), keys
            known_hits: list[int] = []
            posted_at: list[int] = []
            posted: list[Fact] = []
            for position, key in enumerate(keys):
                answer = None if known is None else known.get(entry.name, key)
                if answer is None:
                    # A new id per posted fact: durable-rules drops events it has seen.
                    posted.append({**firsts[position], "_i": len(posted), "id": next(ids)})
                    posted_at.append(position)
                elif answer:
                    known_hits.append(position)
            entry.known_hits, entry.posted_at = known_hits, posted_at
            if posted:
                out.append((entry.name, _encode(posted)))
        return out

    def matched(self, skip: Collection[int] = ()) -> dict[int, list[CompiledRule]]:
        """Per record index, the rules that matched (in no particular order), except ``skip``."""
        assert self.answers is not None
        matched: dict[int, list[CompiledRule]] = {}
        for entry, hits in zip(self.entries, self.answers, strict=True):
            assert entry.sharing is not None
            rules = entry.rules
            for hit in hits:
                for i in entry.sharing[hit]:
                    if i in skip:
                        continue
                    these = matched.get(i)
                    if these is None:
                        matched[i] = list(rules)
                    else:
                        these.extend(rules)
        return matched

    def keyed(self, indices: Collection[int]) -> dict[tuple[str, int], Fact]:
        """The facts of the given records, by (ruleset name, record index)."""
        return {
            (entry.name, i): fact
            for entry in self.entries
            for i, fact in zip(entry.indices, entry.facts, strict=True)
            if i in indices
        }

    def only(self, indices: Collection[int]) -> Posting:
        entries: list[Entry] = []
        for entry in self.entries:
            kept = [(i, f) for i, f in zip(entry.indices, entry.facts, strict=True) if i in indices]
            if kept:
                entries.append(Entry(entry.name, entry.rules, [i for i, _ in kept], [f for _, f in kept]))
        return Posting(entries)


def prepare(stages: Sequence[Stage], records: list[EcsRecord], indices: list[int]) -> list[Posting]:
    """Each stage's facts for ``records[i]``, ``i`` in ``indices``, pre-filtered per dataset group.

    Records are grouped by dataset once, and each field is read once, for all stages: this is done
    before any action, so every stage sees the same records.
    """
    by_dataset: dict[Any, list[int]] = {}
    for i, dataset in _datasets(records, indices).items():
        key = dataset if type(dataset) is str else _NOT_A_NAME
        chosen = by_dataset.get(key)
        if chosen is None:
            by_dataset[key] = [i]
        else:
            chosen.append(i)
    shared = Columns(indices, whole=len(indices) == len(records))
    postings: list[Posting] = []
    for stage in stages:
        members: dict[Group, list[int]] = {}
        for dataset, chosen in by_dataset.items():
            group = stage.by_dataset.get(dataset, stage.everywhere)
            held = members.get(group)
            members[group] = chosen if held is None else sorted(held + chosen)
        entries: list[Entry] = []
        for group, chosen in members.items():
            # One candidate per distinct condition: rules with identical conditions share the fact.
            for candidate, selected in group.select(records, chosen, shared):
                kept, facts = _facts(candidate.condition.fact, records, selected)
                if kept:
                    entries.append(Entry(candidate.name, candidate.rules, kept, facts))
        postings.append(Posting(entries))
    return postings


def _facts(
    fact_of: Callable[[EcsRecord], Fact | None], records: list[EcsRecord], selected: list[int]
) -> tuple[list[int], list[Fact]]:
    """The records among ``selected`` that get a fact, and their facts."""
    pairs = [(i, fact) for i in selected if (fact := fact_of(records[i])) is not None]
    return [i for i, _ in pairs], [fact for _, fact in pairs]


def post(
    evaluate: Evaluate, postings: list[Posting], ids: Iterator[int], known: Decisions | None = None
) -> None:
    """Decide every posting in one host round trip (the answers go into each posting); with
    ``known``, facts it holds are not posted, and the answers to those posted are added to it."""
    requests: list[tuple[str, str]] = []
    for posting in postings:
        requests.extend(posting.requests(ids, known))
    answers = iter(evaluate(requests) if requests else ())
    for posting in postings:
        posting.answers = []
        for entry in posting.entries:
            assert entry.known_hits is not None and entry.posted_at is not None and entry.keys is not None
            hits = list(entry.known_hits)
            if entry.posted_at:
                posted_at = entry.posted_at
                matched = {posted_at[n] for n in next(answers)}
                hits.extend(matched)
                if known is not None:
                    for position in posted_at:
                        known.put(entry.name, entry.keys[position], position in matched)
            posting.answers.append(hits)


def changed_facts(
    speculative: Posting, stage: Stage, records: list[EcsRecord], touched: list[int]
) -> tuple[set[int], Posting]:
    """Records among ``touched`` whose facts for ``stage`` now differ from the speculative ones.

    Returns them and their current facts (to be posted). A record differs when it now gets a fact
    for another set of rulesets, or any fact's content changed.
    """
    (current,) = prepare([stage], records, touched)
    before = speculative.keyed(set(touched))
    now = current.keyed(set(touched))
    changed = {i for _name, i in before.keys() ^ now.keys()}
    for key, fact in now.items():
        old = before.get(key)
        if old is not None and key[1] not in changed and fact != old:
            changed.add(key[1])
    return changed, current.only(changed)
