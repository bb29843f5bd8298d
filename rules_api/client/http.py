"""A small synchronous client for the rules API, used by ``logflow rules ...`` and the tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from common.settings import api_url, logflow_home


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else str(body)
        errors = body.get("errors") if isinstance(body, dict) else None
        message = f"HTTP {status}: {detail}"
        if errors:
            message += "".join(f"\n  {e.get('path')}: {e.get('message')}" for e in errors)
        super().__init__(message)
        self.status = status
        self.body = body


def resolve_token(environ: Mapping[str, str] | None = None) -> str | None:
    """LOGFLOW_API_TOKEN, else the local stack's generated admin token, else None."""
    env = os.environ if environ is None else environ
    token = env.get("LOGFLOW_API_TOKEN", "").strip()
    if token:
        return token
    path = logflow_home(env) / "secrets" / "api-token"
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class RulesClient:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout_s: float = 15.0,
        verify: bool | str = True,
    ) -> None:
        headers = {"Accept": "application/json"}
        token = token if token is not None else resolve_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=(base_url or api_url()).rstrip("/"), headers=headers, timeout=timeout_s, verify=verify
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RulesClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise ApiError(response.status_code, body)
        return response

    def list_rules(
        self, enabled: bool | None = None, tag: str | None = None, dataset: str | None = None
    ) -> list[Any]:
        params: dict[str, str] = {}
        if enabled is not None:
            params["enabled"] = "true" if enabled else "false"
        if tag:
            params["tag"] = tag
        if dataset:
            params["dataset"] = dataset
        rules: list[Any] = self._call("GET", "/api/v1/rules", params=params).json()["rules"]
        return rules

    def get(self, rule_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/rules/{rule_id}").json())

    def create(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/v1/rules", json=rule).json())

    def replace(self, rule_id: str, rule: Mapping[str, Any], version: int) -> dict[str, Any]:
        headers = {"If-Match": f'"{version}"'}
        return dict(self._call("PUT", f"/api/v1/rules/{rule_id}", json=rule, headers=headers).json())

    def set_enabled(self, rule_id: str, enabled: bool) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/api/v1/rules/{rule_id}", json={"enabled": enabled}).json())

    def delete(self, rule_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/api/v1/rules/{rule_id}").json())

    def history(self, rule_id: str) -> list[Any]:
        versions: list[Any] = self._call("GET", f"/api/v1/rules/{rule_id}/versions").json()["versions"]
        return versions

    def rollback(self, rule_id: str, version: int) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/v1/rules/{rule_id}/rollback", json={"version": version}).json())

    def validate(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/v1/rules:validate", json=rule).json())

    def apply(self, rule: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create the rule, or replace it if it exists; returns (created|updated|unchanged, stored)."""
        rule_id = str(rule.get("id", ""))
        try:
            current = self.get(rule_id) if rule_id else None
        except ApiError as exc:
            if exc.status != 404:
                raise
            current = None
        if current is None:
            return "created", self.create(rule)
        stored = self.replace(rule_id, rule, int(current["version"]))
        return ("unchanged" if stored["version"] == current["version"] else "updated"), stored
