"""The job's Flink functions, and the Flink-free logic each runs.

- ``normalize``: parse, apply the broadcast rules, write the batch (Elasticsearch, dead letters).
- ``batch``: one batch through the core (``common.processing``), as write requests and statistics.
- ``rule_set``: the active rules, fed by the rules topic.
- ``threshold``: threshold alerts on keyed state (and writes the alerts it fires).
- ``window_stats``: the window statistics on keyed state (and writes them to Redis).

An operator that writes calls a sink object of ``jobs.sinks``: the write has to complete inside the
operator, before the element does, for the writes to be exactly once (``jobs.sinks.elasticsearch``).
"""
