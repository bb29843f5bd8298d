"""The ``/api/v1`` rule endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from common.clock import now_iso
from rules_api import rules_core
from rules_api.dependencies import Admin, Editor, IfMatch, Service, Viewer, etag, get_context
from rules_api.models import (
    Deleted,
    ErrorBody,
    ExportBody,
    History,
    HistoryItem,
    ImportBody,
    ImportResultBody,
    PatchBody,
    RollbackBody,
    RuleBody,
    RuleEnvelope,
    RuleList,
    TestBody,
    TestResult,
    ValidateResult,
)
from rules_api.service import ValidationFailedError
from rules_api.store.base import StoredRule

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 412, 413, 422, 428, 503)
}

router = APIRouter(prefix="/api/v1", tags=["rules"], responses=_ERRORS)

RuleId = Annotated[str, Path(min_length=1, max_length=256, description="the rule's id")]
RuleIn = Annotated[RuleBody, Body()]


def envelope(stored: StoredRule) -> RuleEnvelope:
    return RuleEnvelope(**stored.to_wire())


def _with_etag(response: Response, stored: StoredRule) -> RuleEnvelope:
    response.headers["ETag"] = etag(stored.version)
    return envelope(stored)


@router.get("/rules", response_model=RuleList, summary="list rules")
async def list_rules(
    _: Viewer,
    service: Service,
    enabled: Annotated[bool | None, Query(description="enabled (true) or disabled (false) rules")] = None,
    tag: Annotated[str | None, Query(max_length=256, description="rules carrying this tag")] = None,
    dataset: Annotated[str | None, Query(max_length=256, description="rules about this dataset")] = None,
) -> RuleList:
    rules = await service.list_rules(enabled=enabled, tag=tag, dataset=dataset)
    return RuleList(count=len(rules), rules=[envelope(r) for r in rules])


@router.get("/rules:export", response_model=ExportBody, summary="every current rule, for import elsewhere")
async def export_rules(_: Admin, service: Service) -> ExportBody:
    rules = await service.list_rules()
    return ExportBody(
        exported_at=now_iso(),
        count=len(rules),
        rules=[r.rule for r in rules],
        versions={r.id: r.version for r in rules},
    )


@router.post(
    "/rules:import", response_model=ImportResultBody, summary="replace or merge all rules atomically"
)
async def import_rules(body: ImportBody, principal: Admin, service: Service) -> ImportResultBody:
    result = await service.import_rules(body.rules, principal.name, replace=body.mode == "replace")
    return ImportResultBody(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        deleted=result.deleted,
        versions=result.versions,
    )


@router.post("/rules:validate", response_model=ValidateResult, summary="check a rule without storing it")
async def validate_rule(rule: RuleIn, _: Editor) -> ValidateResult:
    errors = rules_core.validate_rule(rule)
    return ValidateResult(valid=not errors, errors=errors)  # type: ignore[arg-type]


@router.post("/rules:test", response_model=TestResult, summary="dry-run rules on sample lines")
async def test_rules(request: Request, body: TestBody, _: Editor) -> TestResult:
    context = get_context(request)
    if len(body.lines) > context.settings.max_test_lines:
        raise ValidationFailedError(
            [{"path": "$.lines", "message": f"at most {context.settings.max_test_lines} lines per test"}]
        )
    errors = rules_core.validate_ruleset(list(body.rules), under="$.rules")
    if errors:
        raise ValidationFailedError(errors)
    results = await context.dry_runner.run(list(body.rules), list(body.lines))
    return TestResult(count=len(results), results=results)


@router.get("/rules/{rule_id}", response_model=RuleEnvelope, summary="one rule; ETag holds its version")
async def get_rule(
    response: Response,
    rule_id: RuleId,
    _: Viewer,
    service: Service,
) -> RuleEnvelope:
    return _with_etag(response, await service.get(rule_id))


@router.post("/rules", response_model=RuleEnvelope, status_code=201, summary="create a rule")
async def create_rule(
    response: Response,
    rule: RuleIn,
    principal: Editor,
    service: Service,
) -> RuleEnvelope:
    stored = await service.create(rule, principal.name)
    response.headers["Location"] = f"/api/v1/rules/{stored.id}"
    return _with_etag(response, stored)


@router.put("/rules/{rule_id}", response_model=RuleEnvelope, summary="replace a rule (needs If-Match)")
async def replace_rule(
    response: Response,
    rule_id: RuleId,
    rule: RuleIn,
    principal: Editor,
    service: Service,
    precondition: IfMatch,
) -> RuleEnvelope:
    return _with_etag(response, await service.replace(rule_id, rule, principal.name, precondition))


@router.patch("/rules/{rule_id}", response_model=RuleEnvelope, summary="enable or disable a rule")
async def patch_rule(
    response: Response,
    body: PatchBody,
    rule_id: RuleId,
    principal: Editor,
    service: Service,
    precondition: IfMatch,
) -> RuleEnvelope:
    return _with_etag(
        response, await service.set_enabled(rule_id, body.enabled, principal.name, precondition)
    )


@router.delete("/rules/{rule_id}", response_model=Deleted, summary="delete a rule (a tombstone on Kafka)")
async def delete_rule(
    rule_id: RuleId,
    principal: Editor,
    service: Service,
    precondition: IfMatch,
) -> Deleted:
    version = await service.delete(rule_id, principal.name, precondition)
    return Deleted(id=rule_id, version=version)


@router.get("/rules/{rule_id}/versions", response_model=History, summary="the rule's full history")
async def rule_history(rule_id: RuleId, _: Viewer, service: Service) -> History:
    entries = await service.history(rule_id)
    return History(id=rule_id, versions=[HistoryItem(**e.to_json()) for e in entries])


@router.post(
    "/rules/{rule_id}/rollback", response_model=RuleEnvelope, summary="make an old version current again"
)
async def rollback_rule(
    response: Response,
    body: RollbackBody,
    rule_id: RuleId,
    principal: Editor,
    service: Service,
    precondition: IfMatch,
) -> RuleEnvelope:
    stored = await service.rollback(rule_id, body.version, principal.name, precondition)
    return _with_etag(response, stored)
