"""The OpenAPI description, with the rules core's JSON Schema embedded as the ``Rule`` component.

The core publishes its schema with local ``#/$defs/...`` references; inside an OpenAPI document
those must point into ``#/components/schemas``, so they are rewritten (``#/$defs/condition`` ->
``#/components/schemas/Rule.condition``). Clients and fuzzers then see the real rule shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rules_api.rules_core import rule_json_schema

RULE_REF = "#/components/schemas/Rule"


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"{RULE_REF}.{value.removeprefix('#/$defs/')}"
            elif key == "$ref" and value == "#":
                out[key] = RULE_REF
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def rule_components() -> dict[str, Any]:
    """OpenAPI component schemas for a rule: ``Rule`` plus one ``Rule.<def>`` per core definition."""
    schema = _rewrite_refs(rule_json_schema())
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    components = {"Rule": schema}
    components.update({f"Rule.{name}": definition for name, definition in defs.items()})
    return components


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(rule_components())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
