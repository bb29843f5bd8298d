"""The rules core: validation, compilation to durable-rules, evaluation, dry run.

Public interface (see docs/rules.md)::

    from common.rules import RuleError, RuleValidationError, validate_rule, validate_ruleset
    from common.rules import RuleEngine, dry_run

Heavy pieces (durable-rules itself) live in a child process started by ``RuleEngine``; importing
this package imports only the pure-Python parts and google-re2.
"""

from common.rules.dry_run import dry_run
from common.rules.engine import RuleEngine, RuleResult, ThresholdHit
from common.rules.host_client import EngineHostError
from common.rules.loading import load_rules_file
from common.rules.options import RuleEngineOptions
from common.rules.threshold import InMemoryThresholds, ThresholdCounter, threshold_key
from common.rules.validate import RuleError, RuleValidationError, validate_rule, validate_ruleset

__all__ = [
    "EngineHostError",
    "InMemoryThresholds",
    "RuleEngine",
    "RuleEngineOptions",
    "RuleError",
    "RuleResult",
    "RuleValidationError",
    "ThresholdCounter",
    "ThresholdHit",
    "dry_run",
    "load_rules_file",
    "threshold_key",
    "validate_rule",
    "validate_ruleset",
]
