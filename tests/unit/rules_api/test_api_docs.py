"""/docs: Swagger UI from this server's own files, open, fetching the description with the user's token."""

from __future__ import annotations

import re

from api_harness import Harness

from rules_api.routers.docs import SCRIPT

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_docs_page_answers_without_a_token_and_loads_only_same_server_assets(harness: Harness) -> None:
    page = harness.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = _REFERENCES.findall(page.text)
    assert len(references) >= 4, references  # icon, two stylesheets, two scripts
    for reference in references:
        # A same-server path: not absolute (http:, https:) nor protocol-relative (//cdn...).
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = harness.client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference
    assert "http://" not in page.text and "https://" not in page.text


def test_the_browser_is_told_to_load_nothing_from_elsewhere(harness: Harness) -> None:
    policy = harness.client.get("/docs").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for directive in ("default-src", "script-src", "connect-src"):
        assert directives[directive] == "'self'", directive
    assert "http" not in policy


def test_swagger_ui_is_the_packaged_bundle_and_its_licence_is_served(harness: Harness) -> None:
    bundle = harness.client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text and len(bundle.content) > 500_000
    licence = harness.client.get("/docs/assets/LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text and "Swagger UI" in licence.text


def test_only_the_listed_assets_are_served(harness: Harness) -> None:
    # The package's own index.html and initializer point at a demo API on the internet.
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2F__init__.py", "oauth2-redirect.html"):
        assert harness.client.get(f"/docs/assets/{name}").status_code == 404, name


def test_the_page_fetches_the_description_with_the_entered_token(harness: Harness) -> None:
    assert 'url: "/openapi.json"' in SCRIPT
    assert 'request.headers.Authorization = "Bearer " + token' in SCRIPT
    assert "localStorage" not in SCRIPT and "sessionStorage" not in SCRIPT
    assert harness.client.get("/openapi.json").status_code == 401
    described = harness.client.get("/openapi.json", headers=harness.as_("viewer"))
    assert described.status_code == 200 and "/api/v1/rules" in described.json()["paths"]
    assert "/docs" not in described.json()["paths"]
