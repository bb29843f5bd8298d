"""Every failure becomes a JSON body naming the problem; nothing answers 500.

Bodies have one shape: ``{"error": code, "detail": text, "errors": [{"path", "message"}]}``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rules_api.dependencies import AuthError, ForbiddenError, etag
from rules_api.publisher import PublishError
from rules_api.service import (
    PreconditionFailedError,
    PreconditionRequiredError,
    PublishPendingError,
    ValidationFailedError,
)
from rules_api.store.base import (
    NotFoundError,
    RuleExistsError,
    RuleLimitError,
    StoreUnavailableError,
)

log = logging.getLogger(__name__)


def error_response(
    status: int,
    code: str,
    detail: str,
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "detail": detail, "errors": list(errors)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers)


def _loc_path(loc: Sequence[Any]) -> str:
    parts = list(loc)
    where = parts.pop(0) if parts and parts[0] in {"body", "query", "path", "header"} else "body"
    path = "$" if where == "body" else f"{where}:"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path.endswith(":"):
            path += str(part)
        else:
            path += f".{part}"
    return path


async def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        reason = next(p for p in problems if p.get("type") == "json_invalid")
        ctx = reason.get("ctx") or {}
        return error_response(400, "malformed_json", f"the body is not valid JSON: {ctx.get('error', '')}")
    errors = [{"path": _loc_path(p.get("loc", ())), "message": str(p.get("msg", ""))} for p in problems]
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return error_response(422, "invalid_request", detail, errors)


async def _http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _auth(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    return error_response(401, "unauthorized", exc.detail, headers={"WWW-Authenticate": "Bearer"})


async def _forbidden(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ForbiddenError)
    return error_response(403, "forbidden", exc.detail)


async def _validation_failed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationFailedError)
    return error_response(422, "validation_failed", f"the rule is invalid: {exc}", exc.errors)


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "not_found", str(exc))


async def _exists(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleExistsError)
    return error_response(
        409, "already_exists", f"{exc}; use PUT with If-Match to change it", current_version=exc.version
    )


async def _limit(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleLimitError)
    return error_response(409, "rule_limit", f"rule limit reached: {exc}")


async def _precondition_required(_: Request, exc: Exception) -> JSONResponse:
    return error_response(428, "precondition_required", str(exc))


async def _precondition_failed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PreconditionFailedError)
    return error_response(
        412,
        "version_mismatch",
        str(exc),
        headers={"ETag": etag(exc.current_version)},
        current_version=exc.current_version,
    )


async def _publish_pending(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PublishPendingError)
    return error_response(
        503,
        "publish_pending",
        f"the change is stored but Kafka has not confirmed it ({exc.reason}); it will be published "
        "automatically once Kafka is reachable",
        versions=exc.versions,
        headers={"Retry-After": "5"},
    )


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    return error_response(503, "unavailable", str(exc), headers={"Retry-After": "5"})


async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
    # Whatever slipped through is a dependency failure or a bug; either way the client gets a
    # reason and a retryable status, and the log gets the traceback.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        503, "internal_error", f"the request failed: {type(exc).__name__}; see the server log"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(AuthError, _auth)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(ValidationFailedError, _validation_failed)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(RuleExistsError, _exists)
    app.add_exception_handler(RuleLimitError, _limit)
    app.add_exception_handler(PreconditionRequiredError, _precondition_required)
    app.add_exception_handler(PreconditionFailedError, _precondition_failed)
    app.add_exception_handler(PublishPendingError, _publish_pending)
    app.add_exception_handler(PublishError, _unavailable)
    app.add_exception_handler(StoreUnavailableError, _unavailable)
    app.add_exception_handler(Exception, _last_resort)
