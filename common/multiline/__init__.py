"""Joining multi-line events (stack traces) that arrive one physical line per Kafka message.

Framework-free: the Flink operator wraps a :class:`Joiner` per stream key (docs/multiline.md).
"""

from common.multiline.config import (
    ConfigError,
    MultilineConfig,
    MultilineConfigError,
    MultilineOptions,
    load_config,
    parse_config,
)
from common.multiline.joiner import NO_DEADLINE, Joiner, StateError, state_deadline
from common.multiline.pool import JoinerPool, join_all
from common.multiline.rules import JoinRule
from common.multiline.shapes import BUILTINS
from common.multiline.stream import JoinedEvent, StreamLine, bare_line, record_id, source_of, stream_key

__all__ = [
    "BUILTINS",
    "NO_DEADLINE",
    "ConfigError",
    "JoinRule",
    "JoinedEvent",
    "Joiner",
    "JoinerPool",
    "MultilineConfig",
    "MultilineConfigError",
    "MultilineOptions",
    "StateError",
    "StreamLine",
    "bare_line",
    "join_all",
    "load_config",
    "parse_config",
    "record_id",
    "source_of",
    "state_deadline",
    "stream_key",
]
