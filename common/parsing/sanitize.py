"""Hostile-input handling: decoding, the ``event.original`` escape, truncation and ANSI stripping.

``event.original`` escape: when the raw bytes are valid UTF-8, ``event.original`` is exactly their
text. When they are not, every backslash is doubled and every byte that is not part of valid UTF-8 is
written as ``\\xHH`` (two lowercase hex digits), and the record is tagged ``_invalid_utf8``.
:func:`original_bytes` reverses this, so ``event.original`` always round-trips to the raw bytes.
"""

from __future__ import annotations

import re
from typing import Any, Final

TAG_INVALID_UTF8: Final = "_invalid_utf8"
TAG_TRUNCATED: Final = "_truncated"

_ANSI_RE: Final = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_UNESCAPE_RE: Final = re.compile(r"\\(\\|x[0-9a-f]{2})")


def _cut_utf8(raw: bytes, limit: int) -> bytes:
    """``raw`` shortened to at most ``limit`` bytes without splitting a UTF-8 sequence."""
    cut = limit
    while cut > 0 and (raw[cut] & 0xC0) == 0x80:
        cut -= 1
    return raw[:cut] if cut > 0 else raw[:limit]


def decode(raw: bytes | bytearray | memoryview | str, max_bytes: int) -> tuple[str, str, tuple[str, ...]]:
    """``(original, text, tags)``: the escaped original, the text to parse, and tags for what was done."""
    if isinstance(raw, str):
        if len(raw) <= max_bytes // 4:
            if raw.isascii():
                return raw, raw, ()
            try:
                raw.encode("utf-8")
                return raw, raw, ()
            except UnicodeEncodeError:
                pass  # lone surrogates: treat their bytes as the invalid UTF-8 they stand for
        data = raw.encode("utf-8", "surrogatepass")
    else:
        data = bytes(raw)
    tags: tuple[str, ...] = ()
    if len(data) > max_bytes:
        data = _cut_utf8(data, max_bytes)
        tags = (TAG_TRUNCATED,)
    try:
        text = data.decode("utf-8")
        return text, text, tags
    except UnicodeDecodeError:
        original = data.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
        return original, data.decode("utf-8", "replace"), (*tags, TAG_INVALID_UTF8)


def original_bytes(record: dict[str, Any]) -> bytes:
    """The raw bytes a record was parsed from, undoing the ``event.original`` escape when it applies."""
    original: str = record.get("event", {}).get("original", "")
    if TAG_INVALID_UTF8 not in record.get("tags", ()):
        return original.encode("utf-8")
    return _UNESCAPE_RE.sub(
        lambda m: "\\" if m.group(1) == "\\" else chr(0xDC00 + int(m.group(1)[1:], 16)), original
    ).encode("utf-8", "surrogateescape")


def strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text) if "\x1b" in text else text
