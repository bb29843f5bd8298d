"""The local stack: Kafka, Elasticsearch, Redis, Flink and the rules API as native child processes.

`logflow stack up|down|status` (see ``cli``) is the entry point; ``orchestrator`` holds the logic.
"""
