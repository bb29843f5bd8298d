"""The Elasticsearch sink's settings, taken from the job's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from common.settings import ElasticsearchSettings
from jobs.control.config import JobConfig


@dataclass(frozen=True)
class ElasticsearchSinkConfig:
    connection: ElasticsearchSettings
    bulk_docs: int
    request_timeout_s: int
    deadletter_topic: str

    @classmethod
    def from_job(cls, config: JobConfig) -> ElasticsearchSinkConfig:
        return cls(
            connection=config.elasticsearch,
            bulk_docs=config.es_bulk_docs,
            request_timeout_s=config.es_request_timeout_s,
            deadletter_topic=config.topics.deadletter,
        )
