"""The browser console at ``/ui``: one static page plus its script and style sheet.

The files need no token (they hold no data); every figure the page shows comes from the token-
protected ``/api/v1`` endpoints. Only the files listed here are served, from the package itself,
with a Content-Security-Policy that allows nothing but this server: no inline script, no CDN, no
framing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "ui" / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Small files that change with every release: always revalidate (ETag), never serve stale code.
    "Cache-Control": "no-cache",
}
ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "rules.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


@router.get("/ui")
async def page() -> Response:
    return FileResponse(
        STATIC / "index.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )


@router.get("/ui/")
async def page_slash() -> Response:
    return RedirectResponse("/ui", status_code=308)


@router.get("/ui/static/{name}")
async def asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        return JSONResponse({"error": "not_found", "detail": f"no asset {name}", "errors": []}, 404)
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)
