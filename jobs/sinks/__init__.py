"""Where data leaves the job: one module (or folder) per external system written to.

- ``elasticsearch/``: documents and alerts, bulk-indexed (called from the operators, see there).
- ``dead_letter``: the dead-letter topic (records not processed, documents refused).
- ``kafka_producer``: the acknowledged producer the dead-letter sink uses.
- ``redis_stats``: the window statistics in Redis (and reading them back for ``logflow stats``).
- ``alerts``: the alerts topic (a Flink sink at the end of the alerts branch).
- ``discarding``: the end of a branch whose operator wrote its output itself.
"""
