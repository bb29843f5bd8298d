"""A message as a template: the values that vary between occurrences of one error become placeholders.

``template("order 9042 failed for 10.0.0.5:5432")`` -> ``"order <num> failed for <ip>:<port>"``.
This runs on every error record, so it is built for speed as much as for reach: three cheap passes
that only run when their trigger character is present (quoted values, e-mail addresses, syslog
stamps led by a month's name), then one regular expression whose alternatives are tried in order,
only where a word starts with a character that can begin a value (a digit, a hex letter, ``[``,
``:``, ``/``, ``\\``, a sign). A UUID is thus never half-read as numbers, nor a timestamp as a time
plus a date.
"""

from __future__ import annotations

import re
from typing import Final

MAX_TEMPLATE_INPUT: Final = 512  # characters of the message's first line that are templated

# Quoted values; an apostrophe inside a word (can't) opens nothing. Every branch starts with its
# literal quote, so the engine skips ahead to quote characters.
_QUOTED: Final = re.compile(r"""'(?<!\w')[^'\n]*'(?!\w)|"[^"\n]*"|`[^`\n]*`""")
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONTH: Final = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_SYSLOG_STAMP: Final = re.compile(_MONTH + r" +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?")
_PATTERN: Final = "|".join(
    (
        # timestamps and dates: ISO-8601/RFC 3339, Apache/CLF, bare dates and times
        r"(?P<ts>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        r"|\d{1,2}/" + _MONTH + r"/\d{4}(?::\d{2}:\d{2}:\d{2})?(?: [+-]\d{4})?"
        r"|\d{1,2}/\d{1,2}/\d{2,4}"
        r"|(?<![\d:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\d:]))",
        r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))",
        r"(?P<ipv4>(?<!\.)\d{1,3}(?:\.\d{1,3}){3}(?![\w.]|\.\d))(?P<port>:\d{1,5}(?!\d))?",
        r"(?P<ip6port>\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:%\w+)?\]:\d{1,5}(?!\d))",
        # IPv6: two or more colons among hex groups, with at least one hex digit (`::1`, `fe80::1%eth0`)
        r"(?P<ipv6>(?<![:.\]])(?:(?=[0-9a-fA-F:]*[0-9a-fA-F])(?:[0-9a-fA-F]{0,4}:){2,7}"
        r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4})|::)(?:%\w+)?(?![\w:.]))",
        r"(?P<hex>0[xX][0-9a-fA-F]+(?!\w)"
        r"|(?<!-)(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}(?![\w-]))",
        # a path with at least two segments: its segments that hold digits are ids
        r"(?P<path>(?<!/)/[\w.@%+~-]+(?:/[\w.@%+~-]+)+|(?<!\\)\\[\w.@%+~-]+(?:\\[\w.@%+~-]+)+)",
        # numbers (with sign, decimals, a short unit: 42, -1, 3.5, 10ms, 2GB) not glued to letters
        r"(?P<num>(?<!\.)[-+]?\d+(?:[.,]\d+)*(?:[a-zA-Z]{1,3})?(?!\w))",
    )
)
# Only where a word starts (never inside one: `user42`, `utf8` stay) with a character that can
# begin one of the values: most positions of a message fail these two checks and nothing else.
_TOKENS: Final = re.compile(r"(?<!\w)(?=[\da-fA-F\[:/\\+-])(?:" + _PATTERN + ")")
_INTERESTING: Final = re.compile(r"\d|:[0-9a-fA-F]{0,4}:")
_SEGMENT_DIGIT: Final = re.compile(r"[^/\\]*\d[^/\\]*")


def _replace(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind == "port" or kind == "ip6port":
        # `lastgroup` is the last group that matched: a port implies its address matched too
        return "<ip>:<port>"
    if kind == "ipv4" or kind == "ipv6":
        return "<ip>"
    if kind == "path":
        return _SEGMENT_DIGIT.sub("<id>", m.group(0))
    if kind == "ts":
        return "<ts>"
    if kind == "uuid":
        return "<uuid>"
    if kind == "hex":
        return "<hex>"
    return "<num>"


def template(message: str) -> str:
    """The message's first line with its varying values replaced by placeholders, spaces collapsed."""
    first = message.split("\n", 1)[0] if "\n" in message else message
    if len(first) > MAX_TEMPLATE_INPUT:
        first = first[:MAX_TEMPLATE_INPUT]
    if '"' in first or "'" in first or "`" in first:
        first = _QUOTED.sub("<quoted>", first)
    if "@" in first:
        first = _EMAIL.sub("<email>", first)
    if _INTERESTING.search(first) is not None:
        if ":" in first:
            first = _SYSLOG_STAMP.sub("<ts>", first)
        first = _TOKENS.sub(_replace, first)
    if "  " in first or "\t" in first or "\r" in first or "\f" in first or "\v" in first:
        first = " ".join(first.split())
    return first.strip()
