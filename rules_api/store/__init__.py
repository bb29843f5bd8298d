"""Where rules live: the storage interface and its implementations (Redis; in-memory for tests)."""

from rules_api.store.base import (
    Change,
    HistoryEntry,
    NotFoundError,
    RuleExistsError,
    RuleLimitError,
    RuleStore,
    StoredRule,
    StoreUnavailableError,
    VersionConflictError,
)

__all__ = [
    "Change",
    "HistoryEntry",
    "NotFoundError",
    "RuleExistsError",
    "RuleLimitError",
    "RuleStore",
    "StoreUnavailableError",
    "StoredRule",
    "VersionConflictError",
]
