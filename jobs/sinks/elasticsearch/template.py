"""The index template the job installs at start for ``<prefix>-*`` indices.

The mapping is the ECS record's, defined with its fields in ``common.schema.ecs``: explicit types
for the fields logflow writes (keyword, text, ip, date, numbers), string fields it does not know
mapped as keywords, and ``labels`` kept as keywords whatever their value — so a free-form JSON log
cannot claim a field's type and break later documents. A document that
still conflicts (a non-IP in ``source.ip``, an object where a keyword is mapped) is rejected by
Elasticsearch and dead-lettered with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from common.schema.ecs import DYNAMIC_TEMPLATES, ECS_PROPERTIES
from common.settings import ElasticsearchSettings
from jobs.retention.config import RetentionConfig
from jobs.retention.ilm import prepare_ilm_retention, with_template_settings


def index_template(prefix: str) -> dict[str, Any]:
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 200,
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": 1,
                    # Single-node friendly; raise on a real cluster through the template.
                    "number_of_replicas": 0,
                    "refresh_interval": "1s",
                    "mapping": {"total_fields": {"limit": 2000}, "depth": {"limit": 20}},
                }
            },
            "mappings": {
                "dynamic": True,
                "date_detection": False,
                "numeric_detection": False,
                "dynamic_templates": DYNAMIC_TEMPLATES,
                "properties": ECS_PROPERTIES,
            },
        },
        "_meta": {"managed_by": "logflow"},
    }


def install_index_template(client: Any, prefix: str, extra_settings: dict[str, Any] | None = None) -> None:
    body = index_template(prefix)
    if extra_settings:
        body = with_template_settings(body, extra_settings)
    client.indices.put_index_template(name=f"{prefix}-logflow", **body)


def install(config: ElasticsearchSettings, prefix: str, retention: RetentionConfig | None = None) -> None:
    """Install (or update) the template; the job does it at start, before any document is written.

    With a retention config, the ILM policy (where the cluster has ILM and the mode allows it) is
    installed first, because a template must not name a policy that does not exist yet.
    """
    from elasticsearch import Elasticsearch

    client = Elasticsearch(**config.client_kwargs(), request_timeout=30)
    try:
        lifecycle = (
            prepare_ilm_retention(client, replace(retention, index_prefix=prefix)) if retention else {}
        )
        install_index_template(client, prefix, lifecycle)
    finally:
        client.close()
