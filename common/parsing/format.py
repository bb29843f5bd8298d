"""The one interface of a log format, as the registry (``common.parsing.registry``) lists it.

A format parses either a whole line (``line``) or what follows a leading timestamp that detection
has already read (``after_stamp``: the rest of the line, the stamp as ECS text or None when it was
impossible, and the context). Either returns a partial ECS record with ``event.dataset`` set, or
None when the text is not in this format. ``opens`` says what a record's ``message`` may hold and
detection then parses too: ``PAYLOAD`` (a syslog or journald payload: JSON, logfmt, klog, access
logs...) or ``LINE`` (a line of any format, as a container runtime wraps it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from common.parsing.context import Context

Record = dict[str, Any]
LineParser = Callable[[str, Context], "Record | None"]
StampedParser = Callable[[str, "str | None", Context], "Record | None"]

PAYLOAD: Final = "payload"
LINE: Final = "line"


@dataclass(frozen=True)
class Format:
    name: str
    line: LineParser | None = None
    after_stamp: StampedParser | None = None
    opens: str | None = None  # None, PAYLOAD or LINE
