"""The rules a job instance is applying, fed by the rules topic.

Kept free of Flink types so it can be tested on its own: the broadcast function hands it each
change from the topic, decoded by ``common.schema.rules_topic`` (the format the rules API writes),
and, after a restore, the whole checkpointed broadcast state; it asks it for the engine to apply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from common.rules import RuleEngine, RuleValidationError
from common.schema import rules_topic
from common.schema.rules_topic import RuleChange

log = logging.getLogger(__name__)


class ActiveRules:
    """Versioned rules feeding one ``RuleEngine``; a change that fails to compile is rejected whole."""

    def __init__(self) -> None:
        # Threshold counters live in the job's keyed state, not in the engine.
        self.engine = RuleEngine(count_thresholds=False)
        self.versions: dict[str, int] = {}
        self.rejected = 0

    def apply(self, change: RuleChange) -> bool:
        """Apply one change; True when it took effect (the caller then records it in state)."""
        if change.rule is None:
            if change.rule_id not in self.versions:
                return False
            self._remove_from_engine(change.rule_id)
            del self.versions[change.rule_id]
            return True
        if change.version <= self.versions.get(change.rule_id, -1):
            # A replayed or reordered older version must not undo a newer one.
            return False
        try:
            if change.rule.get("enabled", True) is False:
                self._remove_from_engine(change.rule_id)
            else:
                self.engine.upsert(change.rule)
        except Exception as exc:  # invalid, or an engine failure (its host died): never stop the job
            self.rejected += 1
            log.error(
                "rule %s version %d rejected, keeping version %s: %s",
                change.rule_id,
                change.version,
                self.versions.get(change.rule_id, "none"),
                exc,
                exc_info=not isinstance(exc, RuleValidationError),  # a trace only for the unexpected
            )
            return False
        self.versions[change.rule_id] = change.version
        return True

    def _remove_from_engine(self, rule_id: str) -> None:
        if rule_id in self.engine.rules:
            self.engine.remove(rule_id)

    def restore(self, payloads: Iterable[tuple[str, str]]) -> None:
        """Rebuild from checkpointed broadcast state (rule id -> payload)."""
        for rule_id, payload in payloads:
            try:
                self.apply(rules_topic.decode(rule_id, payload))
            except ValueError as exc:
                self.rejected += 1
                log.error("checkpointed rule dropped: %s", exc)
