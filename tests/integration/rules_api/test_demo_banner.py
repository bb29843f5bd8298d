"""What `make demo` prints at the end (deploy/scripts/demo-banner.sh): every URL in it answers.

The banner is run as the demo runs it and each URL it prints is fetched from the running stack:
the Flink UI, the Elasticsearch searches and the rules API's docs page (then the page's assets, and
the API description with the token from the file the banner names).

By default the rules API is the stack's own (the one the banner points at after `make demo` or
`make test` from this checkout). ``LOGFLOW_TEST_BANNER_OWN_API=1`` points the banner at a private
`logflow api serve` of this checkout instead, for a stack whose API runs other code.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from api_stack import LOGFLOW, REPO, Isolation, ServerFactory

from common.settings import api_url, logflow_home
from rules_api.security import hash_token

pytestmark = pytest.mark.integration

BANNER = REPO / "deploy" / "scripts" / "demo-banner.sh"
_URL = re.compile(r"https?://[^\s'\"]+")
_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
_TOKEN_FILE = re.compile(r"token in (\S+?)\)")


def _own_api() -> bool:
    return os.environ.get("LOGFLOW_TEST_BANNER_OWN_API", "").strip().lower() in {"1", "true", "yes"}


def _stack_token() -> str:
    path = logflow_home() / "secrets" / "api-token"
    assert path.is_file(), f"no stack API token at {path}: is LOGFLOW_HOME the stack's home?"
    return path.read_text().strip()


@pytest.fixture(scope="module")
def banner_env(isolation: Isolation, servers: ServerFactory) -> dict[str, str]:
    env = dict(os.environ)
    if _own_api():
        token = _stack_token()
        entries = [f"{r}-user:{r}:{hash_token(t)}" for r, t in isolation.tokens.items()]
        entries.append(f"stack-admin:admin:{hash_token(token)}")
        env["LOGFLOW_API_URL"] = servers.start(LOGFLOW_API_TOKENS=",".join(entries)).url
    return env


def _banner(env: dict[str, str]) -> str:
    result = subprocess.run([str(BANNER)], env=env, cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_url_the_banner_prints_answers(banner_env: dict[str, str]) -> None:
    text = _banner(banner_env)
    urls = _URL.findall(text)
    api = api_url(banner_env)
    assert f"{api}/docs" in urls, text
    assert f"{api}/ui" in urls, text  # the dashboards and rules console
    assert len(urls) >= 4, text  # Flink UI, two Elasticsearch queries, the API docs
    with httpx.Client(timeout=15) as http:
        for url in urls:
            response = http.get(url)
            assert response.status_code == 200, f"{url} -> {response.status_code}: {response.text[:300]}"
            assert response.content, url
            if "/_search" in url or "/_count" in url:
                assert "error" not in response.json(), response.text[:300]


def test_the_docs_page_works_with_the_token_the_banner_names(banner_env: dict[str, str]) -> None:
    text = _banner(banner_env)
    named = _TOKEN_FILE.search(text)
    assert named, text
    token_file = Path(named.group(1))
    assert token_file.is_file(), f"the banner names {token_file}, which does not exist"
    token = token_file.read_text().strip()
    api = api_url(banner_env)
    with httpx.Client(base_url=api, timeout=15) as http:
        page = http.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assets = _ASSET.findall(page.text)
        assert assets
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), asset  # this server only
            assert http.get(asset).status_code == 200, asset
        # What the page does once the user enters the token: fetch the description with it.
        assert http.get("/openapi.json").status_code == 401
        described = http.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})
        assert described.status_code == 200 and "/api/v1/rules" in described.json()["paths"]


def test_the_commands_the_banner_prints_run(banner_env: dict[str, str]) -> None:
    text = _banner(banner_env)
    assert ".venv/bin/logflow stats" in text and ".venv/bin/logflow stack status" in text
    stats = subprocess.run([LOGFLOW, "stats"], env=banner_env, capture_output=True, text=True, timeout=60)
    assert stats.returncode == 0, stats.stderr
    logs = re.search(r"ls (\S+)/logs/", text)
    assert logs and (Path(logs.group(1)) / "logs").is_dir(), text
