"""Request and response bodies.

A rule travels as the rules core's JSON object (``common/schema/rule.py`` is its one definition);
the API does not restate its fields but validates it with the core and describes it in OpenAPI with
the core's published JSON Schema (see rules_api.openapi). Every other body is strict: unknown
fields and wrong types are rejected with 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, WithJsonSchema

# The schema is the core's, embedded as a component by rules_api.openapi.
RuleBody = Annotated[dict[str, Any], WithJsonSchema({"$ref": "#/components/schemas/Rule"})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    path: str
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="a short machine-readable code, e.g. validation_failed")
    detail: str = Field(description="what went wrong, for a human")
    errors: list[ErrorItem] = Field(default_factory=list)
    current_version: int | None = None
    versions: dict[str, int] | None = None


class RuleEnvelope(BaseModel):
    """A stored rule: the same shape as its record on the rules topic."""

    id: str
    version: int
    updated_at: str
    updated_by: str
    rule: dict[str, Any]


class RuleList(BaseModel):
    count: int
    rules: list[RuleEnvelope]


class HistoryItem(BaseModel):
    version: int
    action: str
    updated_at: str
    updated_by: str
    rule: dict[str, Any] | None
    diff: list[dict[str, Any]]
    rolled_back_from: int | None = None


class History(BaseModel):
    id: str
    versions: list[HistoryItem]


class PatchBody(Strict):
    enabled: StrictBool


class RollbackBody(Strict):
    version: StrictInt = Field(ge=1)


class Deleted(BaseModel):
    id: str
    version: int
    deleted: bool = True


class ValidateResult(BaseModel):
    valid: bool
    errors: list[ErrorItem]


class TestBody(Strict):
    rules: list[RuleBody] = Field(max_length=10_000)
    lines: list[StrictStr] = Field(max_length=100_000)


class TestResult(BaseModel):
    count: int
    results: list[dict[str, Any]]


class ExportBody(BaseModel):
    exported_at: str
    count: int
    rules: list[dict[str, Any]]
    versions: dict[str, int]


class ImportBody(Strict):
    rules: list[RuleBody] = Field(max_length=100_000)
    mode: Literal["replace", "merge"] = Field(
        default="replace",
        description="replace: the store ends up holding exactly these rules; merge: others are kept",
    )


class ImportResultBody(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]
    versions: dict[str, int]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]
    rules: int | None = None
    unpublished: int | None = None
