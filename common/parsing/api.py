"""``parse_message``: one Kafka message (one line, or several such as a stack trace) -> one ECS record;
``parse_messages``: one Kafka message -> its records (several for an OTLP request, one otherwise)."""

from __future__ import annotations

import threading
from typing import Any, Final

from common.errors.fingerprint import annotate as fingerprint_error
from common.parsing import detect
from common.parsing.context import Context
from common.parsing.envelopes import otlp
from common.parsing.formats import stacktrace
from common.parsing.options import ParseOptions
from common.parsing.sanitize import decode, strip_ansi
from common.parsing.timestamps import ingest_time

TAG_PARSE_FAILURE: Final = "_parse_failure"
TAG_TIMESTAMP_FAILURE: Final = "_timestamp_failure"
TAG_PARSE_ERROR: Final = "_parse_error"
TAG_OTLP_INVALID: Final = "_otlp_invalid"
TAG_OTLP_EMPTY: Final = "_otlp_empty"

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
        # An OTLP request (issue 13) never takes it: protobuf starts with "\n" or is not UTF-8, and
        # JSON is caught by its first key (a request written otherwise still is, in _parse_any, if it
        # spans lines); parse_message gives its first record.
        if opts.otlp != "auto" or type(raw) is not bytes or len(raw) > opts.max_message_bytes:
            return _parse_any(raw, opts)
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return _parse_any(raw, opts)
        if "\n" in text or "\x1b" in text:
            return _parse_any(raw, opts)
        line = text[:-1] if text[-1:] == "\r" else text
        if line[:1] == "{" and line[2:14] == "resourceLogs":  # the Collector writes that key first
            return _parse_any(raw, opts)
        now = opts.clock()
        ctx = _context(opts, now)
        rec = detect.parse_known(line, ctx)
        return _finish(_unknown(line) if rec is None else rec, text, (), now)
    except Exception:  # a parser bug must cost a tag, never the line
        return _safe_failure(raw, opts)


def parse_messages(raw: bytes | str, options: ParseOptions | None = None) -> list[dict[str, Any]]:
    """Parse one message into its ECS records, in order: one per log record of an OTLP logs request
    (``otlp_json`` or ``otlp_proto``), else the one :func:`parse_message` gives. Never raises, never
    empty: a request without log records gives one record tagged ``_otlp_empty``. A record's index in
    the list is its place in the request, stable for the same bytes (the job's document ids use it).
    """
    opts = options if options is not None else default_options()
    try:
        if otlp.candidate(raw, opts.otlp):
            records = _parse_otlp(raw, opts)
            if records is not None:
                return records
        return [parse_message(raw, opts)]
    except Exception:  # a parser bug must cost a tag, never the message
        return [_safe_failure(raw, opts)]


def _parse_any(raw: bytes | str, opts: ParseOptions) -> dict[str, Any]:
    """The slow path: an OTLP request's first record, or the message parsed as a line."""
    if otlp.candidate(raw, opts.otlp):
        records = _parse_otlp(raw, opts)
        if records is not None:
            return records[0]
    return _parse(raw, opts)


def _parse_otlp(raw: bytes | str, opts: ParseOptions) -> list[dict[str, Any]] | None:
    """The records of an OTLP request, or None when ``raw`` is not one (under ``auto``: then it is parsed
    as a line, tagged ``_otlp_invalid`` if it looked like OTLP but did not decode)."""
    now = opts.clock()
    ctx = _context(opts, now)
    data = raw if type(raw) is bytes else str(raw).encode("utf-8", "surrogatepass")
    proto = opts.otlp == "proto" or (opts.otlp == "auto" and data[:1] == b"\n")
    found: list[tuple[dict[str, Any], str]] | None
    if proto:
        found = otlp.from_proto(data, ctx, detect.parse_known)
    else:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = ""
        found = otlp.from_json(text, ctx, detect.parse_known) if text else None
    if found is None:
        if opts.otlp == "auto" and proto:
            try:  # a line that starts with a newline is not OTLP that went wrong
                data.decode()
                return None
            except UnicodeDecodeError:
                pass
        rec = _parse(raw, opts)
        rec.setdefault("tags", []).append(TAG_OTLP_INVALID)
        return [rec]
    if not found:
        rec = {"message": "", "event": {"dataset": otlp.DATASET}, "tags": [TAG_OTLP_EMPTY]}
        original, _, tags = decode(raw, opts.max_message_bytes)
        return [_finish(rec, original, tags, now)]
    return [_finish(rec, original, (), now) for rec, original in found]


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
