"""The ILM path: a delete-only lifecycle policy with the prune's meaning, and the template settings
that attach it.

The policy deletes an index ``retention_days + 1`` days after its origination date, and the
template sets ``index.lifecycle.parse_origination_date``, so ILM reads that date from the index
name (``…-yyyy.MM.dd``, midnight UTC) instead of using the creation time. Age
``retention_days + 1`` days from the start of day D is the instant D's last event becomes
``retention_days`` old: the very moment ``logflow indices prune`` would delete it
(``policy.oldest_kept_day``). Without parsing, ILM would age an index from when it was created,
and a day backfilled or replayed weeks later would live that much longer.

``parse_origination_date`` makes Elasticsearch refuse to create an index under the template's
pattern whose name does not end in ``-yyyy.MM.dd`` (optionally ``-<digits>``): the job never
creates one, but anything else writing ``<prefix>-*`` must follow the pattern too.

Call :func:`prepare_ilm_retention` at job submission, before the index template is put, and merge
what it returns into the template with :func:`with_template_settings`.
"""

from __future__ import annotations

import copy
from typing import Any

from elasticsearch import ApiError

from .config import RetentionConfig
from .policy import RetentionError

# What a cluster without the ILM module answers for /_ilm/status: no such route.
_NO_ROUTE = {400, 404, 405}


def policy_name(prefix: str) -> str:
    return f"{prefix}-logflow-retention"


def ilm_policy(retention_days: int) -> dict[str, Any]:
    """The policy body (the value of ``policy`` in ``PUT _ilm/policy/<name>``)."""
    if retention_days < 1:
        raise RetentionError(f"retention must be at least 1 day, got {retention_days}")
    return {
        "_meta": {"managed_by": "logflow", "retention_days": retention_days},
        "phases": {
            "delete": {"min_age": f"{retention_days + 1}d", "actions": {"delete": {}}},
        },
    }


def ilm_template_settings(prefix: str) -> dict[str, Any]:
    """Index settings to merge into the template's ``template.settings``."""
    return {"index": {"lifecycle": {"name": policy_name(prefix), "parse_origination_date": True}}}


def ilm_available(client: Any) -> bool:
    """Whether the cluster runs ILM (the default distribution does; the integ-test zip does not).

    Authentication and permission failures are raised, not read as "no ILM": a retention that
    silently falls back because of a missing privilege would hide the misconfiguration.
    """
    try:
        client.ilm.get_status()
    except ApiError as exc:
        if exc.meta.status in _NO_ROUTE:
            return False
        raise
    return True


def install_ilm_policy(client: Any, prefix: str, retention_days: int) -> str:
    """Create or update the policy; returns its name. Updating changes the age of indices already
    attached the next time ILM evaluates them."""
    name = policy_name(prefix)
    client.ilm.put_lifecycle(name=name, policy=ilm_policy(retention_days))
    return name


def use_ilm(client: Any, config: RetentionConfig) -> bool:
    """Whether retention goes through ILM under ``config`` on this cluster (mode ilm requires it)."""
    if not config.enabled or config.mode == "prune":
        return False
    available = ilm_available(client)
    if config.mode == "ilm" and not available:
        raise RetentionError(
            "LOGFLOW_RETENTION_MODE=ilm but this Elasticsearch has no ILM (_ilm/status is not there); "
            "use LOGFLOW_RETENTION_MODE=prune or auto, which rely on `logflow indices prune`"
        )
    return available


def prepare_ilm_retention(client: Any, config: RetentionConfig) -> dict[str, Any]:
    """Install the policy when retention uses ILM; returns the template settings to add ({} if not)."""
    if not use_ilm(client, config):
        return {}
    assert config.days is not None
    install_ilm_policy(client, config.index_prefix, config.days)
    return ilm_template_settings(config.index_prefix)


def with_template_settings(template: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of an index template body with ``settings`` merged into ``template.settings``."""
    merged = copy.deepcopy(template)
    target = merged.setdefault("template", {}).setdefault("settings", {})
    _merge(target, settings)
    return merged


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
