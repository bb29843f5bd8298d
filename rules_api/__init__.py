"""The rules API: operators edit rules over HTTP; every accepted change is versioned in Redis and
broadcast to the Flink job through the compacted ``logflow.rules`` Kafka topic.

Nothing heavy is imported here, so ``logflow rules ...`` client commands stay fast.
"""
