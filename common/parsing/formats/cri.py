"""The CRI log format (containerd, CRI-O: Kubernetes' /var/log/containers/*.log):
``<RFC 3339 time> <stdout|stderr> <F|P> <line>``.

The line is parsed as a line of any format and its fields win, as for Docker's json-file; ``P``
marks a long line the runtime split. Detection reads the time; what follows is offered here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from common.parsing.context import Context
from common.parsing.format import AfterStamp, Format
from common.parsing.nesting import merge_payload

NestedParser = Callable[[str, Context], "dict[str, Any] | None"]

_CRI_STREAMS: Final = frozenset(("stdout", "stderr"))
_CRI_TAGS: Final = frozenset(("F ", "P "))


def _tail(rest: str, ts: str | None, ctx: Context, nested: NestedParser) -> dict[str, Any]:
    payload = rest[10:]
    labels = {"envelope": "cri", "stream": rest[1:7]}
    if rest[8] == "P":
        labels["partial"] = "true"
    outer: dict[str, Any] = {
        "@timestamp": ts,
        "message": payload,
        "event": {"dataset": "cri"},
        "labels": labels,
    }
    inner = nested(payload, ctx) if payload else None
    return outer if inner is None else merge_payload(outer, inner)


FORMAT: Final = Format(
    "cri",
    ("cri",),
    (
        AfterStamp(
            _tail,
            " ",
            20,
            claims='separator == "T" and rest[1:7] in _CRI_STREAMS and rest[8:10] in _CRI_TAGS',
            final=True,
            args="parse_known",
        ),
    ),
)
