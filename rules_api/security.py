"""Bearer tokens and roles.

Tokens are configured as ``name:role:sha256hex`` entries, so only digests are held at rest and in
memory. A presented token is hashed and compared against every configured digest with
``hmac.compare_digest`` without stopping at the first match, so timing reveals neither which entry
matched nor how much of a digest agreed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    # Ordered: a higher role may do everything a lower one may.
    viewer = 1
    editor = 2
    admin = 3


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


class TokenConfigError(ValueError):
    pass


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    digest: bytes


class TokenRegistry:
    def __init__(self, entries: Iterable[str]) -> None:
        parsed: list[_Entry] = []
        for number, raw in enumerate(entries, start=1):
            parts = raw.strip().split(":")
            if len(parts) != 3:
                raise TokenConfigError(f"token entry {number} is not name:role:sha256hex")
            name, role_name, digest = (p.strip() for p in parts)
            if not name:
                raise TokenConfigError(f"token entry {number} has an empty name")
            if role_name not in Role.__members__:
                raise TokenConfigError(
                    f"token entry {number} ({name}) has role {role_name!r}; use viewer, editor or admin"
                )
            digest = digest.lower()
            if not _HEX64.match(digest):
                raise TokenConfigError(
                    f"token entry {number} ({name}) needs the 64-hex-digit SHA-256 of the token "
                    "(see `logflow api hash-token`)"
                )
            parsed.append(_Entry(Principal(name, Role[role_name]), bytes.fromhex(digest)))
        if not parsed:
            raise TokenConfigError(
                "no API tokens configured: set LOGFLOW_API_TOKENS or LOGFLOW_API_TOKENS_FILE "
                "(entries name:role:sha256hex; hash with `logflow api hash-token`)"
            )
        self._entries = tuple(parsed)

    def authenticate(self, token: str) -> Principal | None:
        presented = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found: Principal | None = None
        for entry in self._entries:
            # No early exit: every entry is compared, whatever matched.
            if hmac.compare_digest(presented, entry.digest) and found is None:
                found = entry.principal
        return found

    def __len__(self) -> int:
        return len(self._entries)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None if absent or malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
