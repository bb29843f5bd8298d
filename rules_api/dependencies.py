"""What route handlers receive: the app's shared context and the authenticated caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rules_api.broadcast import Broadcaster
from rules_api.metrics import ApiMetrics
from rules_api.overview import SummaryCache
from rules_api.publisher import Publisher
from rules_api.records_reader import RecordsReader
from rules_api.rules_core import DryRunner
from rules_api.security import Principal, Role, TokenRegistry, bearer_token
from rules_api.service import Precondition, RulesService
from rules_api.settings import ApiSettings
from rules_api.stats_reader import StatsReader
from rules_api.store.base import RuleStore


@dataclass
class AppContext:
    settings: ApiSettings
    tokens: TokenRegistry
    store: RuleStore
    publisher: Publisher
    broadcaster: Broadcaster
    service: RulesService
    metrics: ApiMetrics
    dry_runner: DryRunner
    # The dashboards' read side: the job's Redis counters and Elasticsearch records.
    stats: StatsReader
    records: RecordsReader
    # Set once the store has been read in full and the outbox drained since startup.
    rules_loaded: bool = False
    topic_ready: bool = False
    last_error: dict[str, str] = field(default_factory=dict)
    overview_cache: SummaryCache = field(default_factory=SummaryCache)


class AuthError(Exception):
    """401: no usable credentials."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ForbiddenError(Exception):
    """403: a known caller whose role does not allow this."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_service(request: Request) -> RulesService:
    return get_context(request).service


_bearer = HTTPBearer(auto_error=False, description="A token configured in LOGFLOW_API_TOKENS(_FILE)")

# The attribute naming the role on each route's authorize dependency: rules_api.auth_first reads
# it to check the token before the body is read.
REQUIRED_ROLE = "required_role"


def check_token(tokens: TokenRegistry, authorization: str | None, role: Role) -> Principal:
    """The caller of an ``Authorization`` header value, allowed ``role``; AuthError/ForbiddenError if not."""
    token = bearer_token(authorization)
    if token is None:
        raise AuthError("missing bearer token (Authorization: Bearer <token>)")
    principal = tokens.authenticate(token)
    if principal is None:
        raise AuthError("unknown bearer token")
    if principal.role < role:
        raise ForbiddenError(f"{principal.name} has role {principal.role.name}; this needs {role.name}")
    return principal


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    async def authorize(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        checked = request.scope.get("state", {}).get("principal")
        if isinstance(checked, Principal) and checked.role >= role:
            return checked  # rules_api.auth_first already checked this request's token
        return check_token(get_context(request).tokens, request.headers.get("authorization"), role)

    setattr(authorize, REQUIRED_ROLE, role)
    return authorize


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Editor = Annotated[Principal, Depends(require(Role.editor))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Service = Annotated[RulesService, Depends(get_service)]


def parse_if_match(header: str | None) -> Precondition:
    """The versions an If-Match header accepts; any version when there is none, or it is ``*``.

    Accepts ``"3"``, ``W/"3"`` and bare ``3``; a tag that is no version number matches nothing.
    """
    if header is None:
        return Precondition()
    versions: set[int] = set()
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*":
            return Precondition(stated=True)
        tag = tag.removeprefix("W/").strip('"')
        if tag.isdigit():
            versions.add(int(tag))
    return Precondition(frozenset(versions), stated=True)


def etag(version: int) -> str:
    """A rule version as the ETag that names it (and that If-Match sends back)."""
    return f'"{version}"'


def _if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='the version you read, as its ETag ("3")')
    ] = None,
) -> Precondition:
    return parse_if_match(if_match)


IfMatch = Annotated[Precondition, Depends(_if_match)]
