"""logflow core: parsing, the ECS record and rule data model, and the rules engine.

Nothing in this package may import Flink, Kafka, Elasticsearch, Redis or web-framework code at module
level: the Flink job, the rules API and the CLI all build on it, and the parser must stay cheap to
import inside every Python worker.
"""
