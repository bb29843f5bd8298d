"""Request body size limit, enforced before any handler reads the body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


def too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": "body_too_large",
            "detail": f"request body exceeds the limit of {limit} bytes",
            "errors": [],
        }
    ).encode()


class BodyLimitMiddleware:
    """Rejects a declared Content-Length over the limit at once, and stops a chunked body as soon as
    it passes the limit (the handler sees BodyTooLargeError, answered as 413)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit or declared < 0:
                    status = 413 if declared > self.limit else 400
                    body = (
                        too_large_body(self.limit)
                        if status == 413
                        else b'{"error":"bad_request","detail":"invalid Content-Length","errors":[]}'
                    )
                    await send(
                        {
                            "type": "http.response.start",
                            "status": status,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        await self.app(scope, limited_receive, send)
