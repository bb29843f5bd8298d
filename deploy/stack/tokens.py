"""The local stack's generated admin token for the rules API.

``secrets/api-token`` holds the plaintext token clients fall back to; ``secrets/api-tokens`` holds the
``name:role:sha256hex`` line the API reads through ``LOGFLOW_API_TOKENS_FILE``.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from .layout import StackLayout


def token_line(name: str, role: str, token: str) -> str:
    return f"{name}:{role}:{hashlib.sha256(token.encode('utf-8')).hexdigest()}"


def ensure_admin_token(layout: StackLayout) -> str:
    """Create the admin token once; later calls return the existing one."""
    layout.secrets.mkdir(parents=True, exist_ok=True)
    layout.secrets.chmod(0o700)
    if layout.api_token_file.exists() and layout.api_tokens_file.exists():
        return layout.api_token_file.read_text().strip()
    token = secrets.token_urlsafe(32)
    for path, content in (
        (layout.api_token_file, token + "\n"),
        (layout.api_tokens_file, token_line("local-admin", "admin", token) + "\n"),
    ):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
    return token
