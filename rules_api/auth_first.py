"""Authentication before the body: the bearer token is checked before anything reads the request.

FastAPI parses and validates a body before it runs a route's dependencies, so an anonymous caller
could learn from a 400/422 what the API accepts, and the server would read (up to the size limit)
what a stranger sends. This middleware runs outside the body limit and the router: it finds the
route a request will reach among the app's routers (the same list main.py includes, in the same
order), reads the role that route requires from its ``require(role)`` dependency (the single place
roles are declared), and answers 401/403 before the body is touched. Routes without such a
dependency (``/healthz``, the docs page and its assets) pass through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from rules_api.dependencies import REQUIRED_ROLE, AuthError, ForbiddenError, check_token
from rules_api.errors import error_response
from rules_api.security import Role


def _role_of(dependant: Dependant) -> Role | None:
    found = getattr(dependant.call, REQUIRED_ROLE, None)
    if isinstance(found, Role):
        return found
    roles = [role for sub in dependant.dependencies if (role := _role_of(sub)) is not None]
    return max(roles) if roles else None


def required_role(route: BaseRoute) -> Role | None:
    """The role a route's dependencies demand, or None for an open route."""
    dependant = getattr(route, "dependant", None)
    return _role_of(dependant) if isinstance(dependant, Dependant) else None


class AuthFirstMiddleware:
    def __init__(self, app: ASGIApp, routers: Iterable[APIRouter]) -> None:
        self.app = app
        # Matched with the routes' own public matches(), not the app's router: FastAPI nests
        # included routers in private structures.
        self._routes = [(route, required_role(route)) for router in routers for route in router.routes]

    def _route_role(self, scope: Scope) -> Role | None:
        # The first full match is the route the router will call (same order, same rules).
        for route, role in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return role
        return None  # no route: the router answers 404/405 without reading a body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        role = self._route_role(scope)
        if role is not None:
            headers = dict(scope.get("headers", []))
            authorization = headers.get(b"authorization", b"").decode("latin-1")
            try:
                principal = check_token(scope["app"].state.context.tokens, authorization, role)
            except AuthError as exc:
                await self._answer(
                    scope, receive, send, 401, "unauthorized", exc.detail, {"WWW-Authenticate": "Bearer"}
                )
                return
            except ForbiddenError as exc:
                await self._answer(scope, receive, send, 403, "forbidden", exc.detail, {})
                return
            # The route's own dependency reads this instead of hashing the token again.
            scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        code: str,
        detail: str,
        headers: dict[str, str],
    ) -> None:
        has_body = any(
            name in {b"content-length", b"transfer-encoding"} for name, _ in scope.get("headers", [])
        )
        if has_body:
            # The body stays unread: close the connection rather than leave it in the stream.
            headers = {**headers, "Connection": "close"}
        response: Any = error_response(status, code, detail, headers=headers)
        await response(scope, receive, send)
