"""Interactive API docs (Swagger UI) served entirely by this server: no CDN, no third-party request.

The page and its assets are open; the API description is not. The page asks for a token and
fetches ``/openapi.json`` with it (as ``Authorization: Bearer``), and "Try it out" requests carry
the same token. The token lives only in the page's memory: nothing is stored in the browser.
Swagger UI's files come from the pinned ``swagger-ui-bundle-v2`` package (Swagger UI, Apache-2.0,
its licence at ``/docs/assets/LICENSE``).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH: Final = "/docs"
ASSETS_PATH: Final = f"{DOCS_PATH}/assets"
DISTRIBUTION: Final = "swagger-ui-bundle-v2"

# Only what the page uses (and the source maps browsers' developer tools ask for): the package's own
# index.html and initializer point at a demo API on the internet, so they are not served.
_VENDOR_FILES: Final = {
    "swagger-ui.css": "text/css",
    "swagger-ui.css.map": "application/json",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-bundle.js.map": "application/json",
    "favicon-32x32.png": "image/png",
}

# Scripts, styles, images and requests from this origin only (Swagger UI sets inline styles and
# draws data: images); a browser refuses anything else, so the page cannot quietly reach a CDN.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

PAGE: Final = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>logflow rules API</title>
  <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
  <link rel="stylesheet" href="{ASSETS_PATH}/logflow-docs.css">
</head>
<body>
  <form id="logflow-token">
    <label for="logflow-token-value">API token (viewer or higher; <code>.logflow/secrets/api-token</code>
    in the local stack)</label>
    <input id="logflow-token-value" type="password" autocomplete="off" required>
    <button type="submit">Load the API description</button>
    <span id="logflow-token-note">The token stays in this page; it is sent only to this server.</span>
  </form>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS_PATH}/logflow-docs.js"></script>
</body>
</html>
"""

# No inline script (the policy above forbids it): the page's own logic is this same-origin file.
SCRIPT: Final = """"use strict";
document.getElementById("logflow-token").addEventListener("submit", function (event) {
  event.preventDefault();
  var token = document.getElementById("logflow-token-value").value.trim();
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    tryItOutEnabled: false,
    requestInterceptor: function (request) {
      request.headers.Authorization = "Bearer " + token;
      return request;
    },
  });
});
"""

STYLE: Final = """\
#logflow-token { font-family: sans-serif; padding: 12px 20px; border-bottom: 1px solid #ddd; }
#logflow-token input { width: 28em; margin: 0 8px; }
#logflow-token-note { color: #666; font-size: 0.9em; margin-left: 8px; }
"""

router = APIRouter(tags=["docs"], include_in_schema=False)


def _security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@router.get(DOCS_PATH)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=_security_headers())


@router.get(ASSETS_PATH + "/{name}")
async def docs_asset(name: str) -> Response:
    headers = {**_security_headers(), "Cache-Control": "public, max-age=3600"}
    if name == "logflow-docs.js":
        return Response(SCRIPT, media_type="text/javascript", headers=headers)
    if name == "logflow-docs.css":
        return Response(STYLE, media_type="text/css", headers=headers)
    if name == "LICENSE":
        licence = importlib.metadata.distribution(DISTRIBUTION).read_text("licenses/LICENSE") or ""
        notice = (
            f"Swagger UI (https://github.com/swagger-api/swagger-ui), from the {DISTRIBUTION} package.\n\n"
        )
        return PlainTextResponse(notice + licence, headers=headers)
    media_type = _VENDOR_FILES.get(name)
    if media_type is None:
        raise HTTPException(404, f"no docs asset {name!r}")
    return FileResponse(Path(str(swagger_ui_path)) / name, media_type=media_type, headers=headers)
