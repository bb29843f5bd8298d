"""Request body limits (size, media type), enforced before any handler reads the body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": "body_too_large",
            "detail": f"request body exceeds the limit of {limit} bytes",
            "errors": [],
        }
    ).encode()


def _reject_message(status: int, body: bytes) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


class JsonBodyMiddleware:
    """A write whose body declares a media type other than JSON gets 415: FastAPI would take it as
    bytes and answer a puzzling 422 about the body's shape. A body without a Content-Type is left
    to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in {"POST", "PUT", "PATCH"}:
            headers = dict(scope.get("headers", []))
            content_type = headers.get(b"content-type")
            has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            if has_body and content_type is not None and not _is_json(content_type):
                body = json.dumps(
                    {
                        "error": "unsupported_media_type",
                        "detail": f"the body must be JSON (Content-Type: application/json), "
                        f"not {content_type.decode('latin-1')!r}",
                        "errors": [],
                    }
                ).encode()
                for message in _reject_message(415, body):
                    await send(message)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Rejects a body over the limit with 413 before any handler runs: a declared Content-Length at
    once, and a body of unknown length (chunked) by reading it up to the limit first."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _reject(self, send: Send, status: int, body: bytes) -> None:
        for message in _reject_message(status, body):
            await send(message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await self._reject(send, 400, _BAD_LENGTH)
            elif length > self.limit:
                await self._reject(send, 413, too_large_body(self.limit))
            else:
                await self.app(scope, receive, send)
            return
        if scope.get("method") in {"GET", "HEAD", "DELETE", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._reject(send, 413, too_large_body(self.limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_BAD_LENGTH = b'{"error":"bad_request","detail":"invalid Content-Length","errors":[]}'
