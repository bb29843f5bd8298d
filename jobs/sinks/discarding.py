"""A sink that drops everything: the end of a branch whose operator already wrote its output.

Flink needs every branch to end in a sink; the window statistics operator writes Redis itself
(through ``jobs.sinks.redis_stats``) and emits nothing, so its branch ends here.
"""

from __future__ import annotations

from typing import Any


def discarding_sink() -> Any:
    from pyflink.datastream.connectors.base import Sink
    from pyflink.java_gateway import get_gateway

    return Sink(get_gateway().jvm.org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink())
