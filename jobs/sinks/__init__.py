"""The job's sinks: Elasticsearch (async bulk), Kafka dead letters and alerts, Redis statistics."""
