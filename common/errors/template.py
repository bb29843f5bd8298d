"""A message as a template: the values that vary between occurrences of one error become placeholders.

``template("order 9042 failed for 10.0.0.5:5432")`` -> ``"order <num> failed for <ip>:<port>"``.
One pass of one regular expression whose alternatives are tried in order at each position, so a
UUID is never half-read as numbers and a timestamp never as a time plus a date.
"""

from __future__ import annotations

import re
from typing import Final

MAX_TEMPLATE_INPUT: Final = 512  # characters of the message's first line that are templated

_MONTH: Final = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_PATTERN: Final = "|".join(
    (
        # quoted values; an apostrophe inside a word (can't) opens nothing
        r"""(?P<quoted>(?<!\w)'[^'\n]*'(?!\w)|"[^"\n]*"|`[^`\n]*`)""",
        # timestamps and dates: ISO-8601/RFC 3339, Apache/CLF, syslog, bare dates and times
        r"(?P<ts>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        r"|\d{1,2}/" + _MONTH + r"/\d{4}(?::\d{2}:\d{2}:\d{2})?(?: [+-]\d{4})?"
        r"|" + _MONTH + r" +\d{1,2} \d{2}:\d{2}:\d{2}"
        r"|\d{1,2}/\d{1,2}/\d{2,4}"
        r"|(?<![\d:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\d:]))",
        r"(?P<uuid>(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))",
        r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
        r"(?P<ipv4>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]|\.\d))(?P<port>:\d{1,5}(?!\d))?",
        r"(?P<ip6port>\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:%\w+)?\]:\d{1,5}(?!\d))",
        # IPv6: two or more colons among hex groups, with at least one hex digit (`::1`, `fe80::1%eth0`)
        r"(?P<ipv6>(?<![\w:.\]])(?:(?=[0-9a-fA-F:]*[0-9a-fA-F])(?:[0-9a-fA-F]{0,4}:){2,7}"
        r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4})|::)(?:%\w+)?(?![\w:.]))",
        r"(?P<hex>(?<!\w)0[xX][0-9a-fA-F]+(?!\w)"
        r"|(?<![\w-])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}(?![\w-]))",
        # a path with at least two segments: its segments that hold digits are ids
        r"(?P<path>(?:(?<![\w/])/|(?<![\w\\])\\)[\w.@%+~-]+(?:[/\\][\w.@%+~-]+)+)",
        # numbers (with sign, decimals, a short unit: 42, -1, 3.5, 10ms, 2GB) not glued to letters
        r"(?P<num>(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:[a-zA-Z]{1,3})?(?![\w]))",
    )
)
_TOKENS: Final = re.compile(_PATTERN)
_SEGMENT_DIGIT: Final = re.compile(r"[^/\\]*\d[^/\\]*")
_SPACES: Final = re.compile(r"\s+")


def _path(text: str) -> str:
    return _SEGMENT_DIGIT.sub("<id>", text)


def _replace(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind == "port" or kind == "ip6port":
        # `lastgroup` is the last group that matched: a port implies its address matched too
        return "<ip>:<port>"
    if kind == "ipv4":
        return "<ip>"
    if kind == "ipv6":
        return "<ip>"
    if kind == "path":
        return _path(m.group(0))
    if kind == "quoted":
        return "<quoted>"
    if kind == "ts":
        return "<ts>"
    if kind == "uuid":
        return "<uuid>"
    if kind == "email":
        return "<email>"
    if kind == "hex":
        return "<hex>"
    return "<num>"


def template(message: str) -> str:
    """The message's first line with its varying values replaced by placeholders, spaces collapsed."""
    first = message.split("\n", 1)[0] if "\n" in message else message
    if len(first) > MAX_TEMPLATE_INPUT:
        first = first[:MAX_TEMPLATE_INPUT]
    return _SPACES.sub(" ", _TOKENS.sub(_replace, first)).strip()
