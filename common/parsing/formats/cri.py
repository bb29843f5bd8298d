"""The CRI log format (containerd, CRI-O: Kubernetes' /var/log/containers/*.log).

``<RFC 3339 time> <stdout|stderr> <F|P> <line>``: the record of the wrapper; detection parses the
line as a line of any format, and its fields win, as for Docker's json-file. ``P`` marks a long
line the runtime split.
"""

from __future__ import annotations

from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import LINE, Format

STREAMS: Final = frozenset(("stdout", "stderr"))
TAGS: Final = frozenset(("F ", "P "))


def is_cri(rest: str) -> bool:
    """Whether the text after an RFC 3339 stamp is `` <stream> <F|P> ``."""
    return rest[1:7] in STREAMS and rest[8:10] in TAGS


def parse_tail(rest: str, ts: str | None, ctx: Context) -> dict[str, Any] | None:
    labels = {"envelope": "cri", "stream": rest[1:7]}
    if rest[8] == "P":
        labels["partial"] = "true"
    return {"@timestamp": ts, "message": rest[10:], "event": {"dataset": "cri"}, "labels": labels}


FORMAT: Final[Format] = Format("cri", after_stamp=parse_tail, opens=LINE)
