"""Parse, then apply the rules: the per-event core of the job and of ``logflow rules test``.

from common.processing import parse_and_apply
"""

from common.processing.core import Failure, Outcome, Processed, RuleApplier, parse_and_apply

__all__ = ["Failure", "Outcome", "Processed", "RuleApplier", "parse_and_apply"]
