"""Log normalization: any common log line (or multi-line message) becomes one ECS-shaped record.

    from common.parsing import parse_message, ParseOptions
    record = parse_message(b"Jun 14 15:16:01 combo sshd[19939]: authentication failure")

Pure Python, standard library only; see docs/parsing.md for formats, fields and tags.
"""

from common.parsing.api import parse_message, parse_messages
from common.parsing.options import ParseOptions
from common.parsing.sanitize import original_bytes

__all__ = ["ParseOptions", "original_bytes", "parse_message", "parse_messages"]
