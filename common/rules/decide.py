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

import itertools
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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
_NOT_A_NAME = object()
Evaluate = Callable[[list[tuple[str, str]]], list[list[int]]]


@dataclass
class Posting:
    """One stage's facts for some records, per ruleset, and which rules each ruleset decides.

    ``entries`` holds, per candidate condition that got facts, its ruleset name, the rules sharing
    it and the facts (each with its record's index under ``_i``); ``answers`` is filled in with
    the indices durable-rules matched, per entry.
    """

    entries: list[tuple[str, tuple[CompiledRule, ...], list[Fact]]]
    answers: list[list[int]] | None = None

    def requests(self, ids: Iterator[int]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, _rules, facts in self.entries:
            for fact in facts:
                fact["id"] = next(ids)  # durable-rules drops events it has seen
            out.append((name, _encode(facts)))
        return out

    def matched(self, skip: Collection[int] = ()) -> dict[int, list[CompiledRule]]:
        """Per record index, the rules that matched (in no particular order), except ``skip``."""
        assert self.answers is not None
        matched: dict[int, list[CompiledRule]] = {}
        for (_name, rules, _facts), hits in zip(self.entries, self.answers, strict=True):
            for i in hits:
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
            (name, fact["_i"]): fact
            for name, _rules, facts in self.entries
            for fact in facts
            if fact["_i"] in indices
        }

    def only(self, indices: Collection[int]) -> Posting:
        entries = [
            (name, rules, kept)
            for name, rules, facts in self.entries
            if (kept := [fact for fact in facts if fact["_i"] in indices])
        ]
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
        entries: list[tuple[str, tuple[CompiledRule, ...], list[Fact]]] = []
        for group, chosen in members.items():
            # One candidate per distinct condition: rules with identical conditions share the fact.
            for candidate, selected in group.select(records, chosen, shared):
                fact_of = candidate.condition.fact
                facts = [fact for i in selected if (fact := fact_of(records[i], i)) is not None]
                if facts:
                    entries.append((candidate.name, candidate.rules, facts))
        postings.append(Posting(entries))
    return postings


def post(evaluate: Evaluate, postings: list[Posting], ids: Iterator[int]) -> None:
    """Decide every posting in one host round trip (the answers go into each posting)."""
    requests: list[tuple[str, str]] = []
    for posting in postings:
        requests.extend(posting.requests(ids))
    answers = iter(evaluate(requests) if requests else ())
    for posting in postings:
        posting.answers = list(itertools.islice(answers, len(posting.entries)))


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
        # The speculative fact carries the id it was posted with; content is what matters.
        if old is not None and key[1] not in changed and {**fact, "id": old.get("id")} != old:
            changed.add(key[1])
    return changed, current.only(changed)
