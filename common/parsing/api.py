"""``parse_message``: one Kafka message (one line, or several such as a stack trace) -> one ECS record."""

from __future__ import annotations

import threading
from typing import Any, Final

from common.errors.fingerprint import annotate as fingerprint_error
from common.parsing import detect
from common.parsing.context import Context
from common.parsing.formats import stacktrace
from common.parsing.options import ParseOptions
from common.parsing.sanitize import decode, strip_ansi
from common.parsing.timestamps import ingest_time

TAG_PARSE_FAILURE: Final = "_parse_failure"
TAG_TIMESTAMP_FAILURE: Final = "_timestamp_failure"
TAG_PARSE_ERROR: Final = "_parse_error"

_default_options: ParseOptions | None = None


def default_options() -> ParseOptions:
    """Options from the environment, read once on first use."""
    global _default_options
    if _default_options is None:
        _default_options = ParseOptions.from_env()
    return _default_options


def parse_message(raw: bytes | str, options: ParseOptions | None = None) -> dict[str, Any]:
    """Parse one message into an ECS record. Never raises; unrecognised text is tagged ``_parse_failure``.

    The record always has ``@timestamp``, ``message``, ``event.original``, ``event.dataset`` and
    ``event.ingested``.
    """
    opts = options if options is not None else default_options()
    try:
        # The common case first (valid UTF-8 bytes under the size limit, one line without ESC, or
        # with only a CRLF's CR at its end): it needs none of _parse's decoding and cleaning.
        if type(raw) is not bytes or len(raw) > opts.max_message_bytes:
            return _parse(raw, opts)
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return _parse(raw, opts)
        if "\n" in text or "\x1b" in text:
            return _parse(raw, opts)
        line = text[:-1] if text[-1:] == "\r" else text
        now = opts.clock()
        ctx = _context(opts, now)
        rec = detect.parse_known(line, ctx)
        return _finish(_unknown(line) if rec is None else rec, text, (), now)
    except Exception:  # a parser bug must cost a tag, never the line
        return _safe_failure(raw, opts)


_local = threading.local()


def _context(opts: ParseOptions, now: float) -> Context:
    """A Context for this thread, reused across calls with the same options (built once, not per line)."""
    ctx: Context | None = getattr(_local, "ctx", None)
    if ctx is None or ctx.options is not opts:
        ctx = Context(opts, now)
        _local.ctx = ctx
    else:
        ctx.now = now
    return ctx


def _parse(raw: bytes | str, opts: ParseOptions) -> dict[str, Any]:
    now = opts.clock()
    original, text, tags = decode(raw, opts.max_message_bytes)
    if text[-1:] == "\n":
        text = text[:-1]
    if text[-1:] == "\r":
        text = text[:-1]
    if "\x1b" in text:
        text = strip_ansi(text)
    ctx = _context(opts, now)
    rec: dict[str, Any] | None
    if "\n" in text:
        rec = _parse_multiline(text, ctx)
    else:
        rec = detect.parse_known(text, ctx)
        if rec is None:
            rec = _unknown(text)
    return _finish(rec, original, tags, now)


def _parse_multiline(text: str, ctx: Context) -> dict[str, Any]:
    if text[:1] == "{":
        whole = detect.parse_known(text, ctx)
        if whole is not None:
            return whole
    head, _, rest = text.partition("\n")
    rec = detect.parse_known(head, ctx)
    if rec is None:
        rec = _unknown(head)
    message = rec.get("message") or ""
    message = f"{message}\n{rest}" if message else rest
    rec["message"] = message
    error = stacktrace.extract(message)
    if error is not None:
        existing = rec.get("error")
        if isinstance(existing, dict):
            error.update(existing)
        rec["error"] = error
    return rec


def _unknown(text: str) -> dict[str, Any]:
    return {"message": text, "event": {"dataset": "unknown"}, "tags": [TAG_PARSE_FAILURE]}


def _finish(rec: dict[str, Any], original: str, tags: tuple[str, ...], now: float) -> dict[str, Any]:
    ingested = ingest_time(now)
    stamp = rec.get("@timestamp", False)
    if stamp is None:
        rec["@timestamp"] = ingested
        rec.setdefault("tags", []).append(TAG_TIMESTAMP_FAILURE)
    elif stamp is False:
        rec["@timestamp"] = ingested
    message = rec.get("message")
    if type(message) is not str:
        rec["message"] = "" if message is None else str(message)
    elif message and message[-1] in " \t\r":
        rec["message"] = message.rstrip(" \t\r")
    event = rec["event"]
    event["original"] = original
    event["ingested"] = ingested
    if tags:
        rec.setdefault("tags", []).extend(tags)
    fingerprint_error(rec)  # error.fingerprint: here, so `logflow parse`, the dry run and the job agree
    return rec


def _safe_failure(raw: object, opts: ParseOptions) -> dict[str, Any]:
    """The record for a line a parser choked on: built from the decoded text only."""
    try:
        original, text, tags = decode(raw, opts.max_message_bytes)  # type: ignore[arg-type]
    except Exception:
        original = text = repr(raw)
        tags = ()
    try:
        now = opts.clock()
    except Exception:
        import time

        now = time.time()
    rec = _unknown(strip_ansi(text))
    rec["tags"].append(TAG_PARSE_ERROR)
    return _finish(rec, original, tags, now)
